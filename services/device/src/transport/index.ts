/** Transports of the device service: links to serial lines, and a link that reopens itself. */
export { type Link, LinkEvents } from './link.ts';
export { type OpenLinkOptions, openLink } from './open-link.ts';
export { ReconnectingLink, type ReconnectingLinkOptions } from './reconnecting-link.ts';
export type { SerialPortLike, SerialPortSettings } from './serial-link.ts';
export { type LinkTarget, type Parity, parseLinkUrl, TRANSPORT_DEFAULTS } from './url.ts';

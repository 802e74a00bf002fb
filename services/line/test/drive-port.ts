/**
 * The part of a DrivePort that unit tests of the line share: every drive online, its
 * breaker closed, no state yet, nothing ever changing, every wait met at once. Tests
 * extend it with how commands are answered (and states delivered).
 */
import type { Command } from '../../contract/src/index.ts';
import type { DrivePort, Final, SendOptions } from '../src/drives/drive-link.ts';

export abstract class OnlineDrivePort implements DrivePort {
  view() {
    return {
      availability: 'online' as const,
      reason: undefined,
      breaker: 'closed' as const,
      state: undefined,
    };
  }
  isDown() {
    return false;
  }
  isUp() {
    return true;
  }
  onChange() {
    return () => {};
  }
  onState(_cb: Parameters<DrivePort['onState']>[0]): () => void {
    return () => {};
  }
  async waitForState() {
    return 'ok' as const;
  }
  abstract send(driveId: string, command: Command, o: SendOptions): Promise<Final>;
}

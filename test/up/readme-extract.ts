/**
 * The commands a README shows, found by a fixed rule, so that a test can check that a
 * test or CI runs each one (issue 7: "each command in it is one a test or CI runs").
 *
 * 1. **Shell blocks**: fenced blocks whose language is `sh`, `bash`, `shell` or `zsh`.
 *    Every line is part of a command except blank lines and whole-line comments. A line
 *    ending in `\` continues on the next (joined with a space); a line that is not a
 *    complete shell command by itself (`for …; do` with its `done` on the next line) is
 *    joined with the following lines until `bash -n` accepts the whole. A trailing
 *    `# comment` is dropped. In `console` blocks only lines starting with `$ ` are
 *    commands; the other lines are their output.
 * 2. **The usage synopsis**: a block without a language whose every line starts with
 *    `servofleet `. Each line up to its description (after the last run of three or
 *    more spaces) is a usage line, `[…]` marking optional parts.
 * 3. **Inline commands**: a code span in the prose whose first word (after `VAR=value`
 *    assignments) is one of COMMAND_WORDS or a script path (`scripts/gen-certs.sh`,
 *    `./x`), with at least one argument — except `servofleet <sub-command>` alone,
 *    which names a sub-command rather than shows how to run it.
 *
 * Everything else is not a command: ```yaml and other languages, diagrams and examples
 * fenced without a language. A block without a language that does hold command lines
 * is reported as a problem: it should be fenced as ```sh (or ```text for output).
 */
import { spawnSync } from 'node:child_process';

export type CommandKind = 'shell' | 'usage' | 'inline';

export interface ReadmeCommand {
  /** The command as the shell runs it: continuations joined, trailing comment dropped. */
  text: string;
  kind: CommandKind;
  /** 1-based README line where it starts. */
  line: number;
}

export interface ReadmeCommands {
  commands: ReadmeCommand[];
  /** Where the README breaks the rule above, one message per place. */
  problems: string[];
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'zsh']);

/** First words that make a code span (or a line of an unlabelled block) a command. */
export const COMMAND_WORDS: ReadonlySet<string> = new Set([
  'apt',
  'apt-get',
  'bash',
  'cp',
  'curl',
  'docker',
  'docker-compose',
  'git',
  'helm',
  'kubectl',
  'make',
  'mkdir',
  'mosquitto',
  'mosquitto_passwd',
  'mosquitto_pub',
  'mosquitto_sub',
  'node',
  'npm',
  'npx',
  'openssl',
  'servofleet',
  'sh',
  'socat',
  'sudo',
  'systemctl',
  'wget',
]);

const SCRIPT_PATH = /^(\.{0,2}\/)?([\w.-]+\/)*[\w.-]+\.sh$|^\.\//;

export function readmeCommands(markdown: string): ReadmeCommands {
  const lines = markdown.split('\n');
  const commands: ReadmeCommand[] = [];
  const problems: string[] = [];
  // Prose with every fenced line blanked, so that inline spans keep their line numbers.
  const prose: string[] = [];
  let i = 0;
  while (i < lines.length) {
    const open = /^\s*(`{3,}|~{3,})\s*([\w+-]*)/.exec(lines[i]!);
    if (!open) {
      prose.push(lines[i]!);
      i++;
      continue;
    }
    const fence = open[1]!;
    const lang = open[2]!.toLowerCase();
    const start = i + 1;
    let end = start;
    while (end < lines.length && !lines[end]!.trim().startsWith(fence)) end++;
    const body = lines.slice(start, end).map((text, k) => ({ text, n: start + k + 1 }));
    for (let k = i; k <= Math.min(end, lines.length - 1); k++) prose.push('');
    i = end + 1;
    if (SHELL_LANGS.has(lang) || lang === 'console') {
      const found = shellBlock(body, lang === 'console');
      commands.push(...found.commands);
      problems.push(...found.problems);
    } else if (lang === '') {
      const nonEmpty = body.filter((l) => l.text.trim() !== '');
      if (nonEmpty.length > 0 && nonEmpty.every((l) => l.text.startsWith('servofleet '))) {
        for (const l of nonEmpty) {
          commands.push({ text: usageOf(l.text), kind: 'usage', line: l.n });
        }
      } else {
        const cmd = nonEmpty.find((l) => isCommandWords(l.text.trim().replace(/^\$ /, '')));
        if (cmd) {
          problems.push(
            `README.md:${cmd.n}: a block without a language holds a command (${cmd.text.trim()}): ` +
              'fence it as ```sh (commands) or ```text (output)',
          );
        }
      }
    }
  }
  const text = prose.join('\n');
  for (const m of text.matchAll(/`([^`]+)`/g)) {
    const span = m[1]!;
    if (span.includes('\n\n')) continue;
    const words = span.trim().split(/\s+/);
    if (!isCommandWords(span.trim())) continue;
    if (words[0] === 'servofleet' && words.length <= 2) continue;
    const line = text.slice(0, m.index).split('\n').length;
    commands.push({ text: words.join(' '), kind: 'inline', line });
  }
  commands.sort((a, b) => a.line - b.line);
  return { commands, problems };
}

/** A command word or script path followed by at least one argument. */
function isCommandWords(text: string): boolean {
  const words = text.replace(/^(\w+=\S*\s+)*/, '').split(/\s+/);
  const first = words[0] ?? '';
  if (SCRIPT_PATH.test(first)) return true;
  return COMMAND_WORDS.has(first) && words.length >= 2;
}

/** `servofleet up        [--config FILE]   the whole fleet …` → `servofleet up [--config FILE]`. */
function usageOf(line: string): string {
  const parts = line.trim().split(/\s{3,}/);
  const last = parts[parts.length - 1]!;
  if (parts.length > 1 && !/^[[<-]/.test(last)) parts.pop();
  return parts.join(' ').replace(/\s+/g, ' ');
}

function shellBlock(body: { text: string; n: number }[], console: boolean): ReadmeCommands {
  const commands: ReadmeCommand[] = [];
  const problems: string[] = [];
  let pending: { text: string; n: number } | undefined;
  for (const { text: raw, n } of body) {
    if (!pending) {
      let text = raw;
      if (console) {
        if (!raw.startsWith('$ ')) continue; // output
        text = raw.slice(2);
      }
      if (text.trim() === '' || text.trim().startsWith('#')) continue;
      pending = { text: text.trimEnd(), n };
    } else if (/(^|[^\\])\\$/.test(pending.text)) {
      const line = console ? raw.replace(/^> /, '') : raw;
      pending.text = `${pending.text.slice(0, -1).trimEnd()} ${line.trim()}`;
    } else {
      pending.text = `${pending.text}\n${raw.trimEnd()}`;
    }
    if (/(^|[^\\])\\$/.test(pending.text) || !completeShell(pending.text)) continue;
    commands.push({ text: stripComments(pending.text), kind: 'shell', line: pending.n });
    pending = undefined;
  }
  if (pending) {
    problems.push(`README.md:${pending.n}: the command starting here never ends (${pending.text})`);
  }
  return { commands, problems };
}

/** Whether bash parses `text` as complete commands (`bash -n`: syntax only, runs nothing). */
function completeShell(text: string): boolean {
  return spawnSync('bash', ['-n'], { input: text, timeout: 10_000 }).status === 0;
}

/** Drops `# comments` (a `#` starting a word outside quotes), then trailing blanks. */
export function stripComments(text: string): string {
  let out = '';
  let quote: "'" | '"' | undefined;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (quote) {
      if (c === '\\' && quote === '"') {
        out += c + (text[k + 1] ?? '');
        k++;
        continue;
      }
      if (c === quote) quote = undefined;
      out += c;
    } else if (c === '\\') {
      out += c + (text[k + 1] ?? '');
      k++;
    } else if (c === "'" || c === '"') {
      quote = c;
      out += c;
    } else if (c === '#' && (k === 0 || /[\s;&|(]/.test(text[k - 1]!))) {
      while (k + 1 < text.length && text[k + 1] !== '\n') k++;
    } else {
      out += c;
    }
  }
  return out
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n')
    .trim();
}

/** Shell words of a simple command line: quotes removed, no expansion. */
export function shellWords(text: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: "'" | '"' | undefined;
  for (let k = 0; k < text.length; k++) {
    const c = text[k]!;
    if (quote) {
      if (c === quote) quote = undefined;
      else if (c === '\\' && quote === '"' && /["\\$`]/.test(text[k + 1] ?? '')) word += text[++k]!;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word ??= '';
    } else if (c === '\\') {
      word = (word ?? '') + (text[++k] ?? '');
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}

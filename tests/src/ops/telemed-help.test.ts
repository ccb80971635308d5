// `telemed --help` and `telemed <command> --help` for every command the CLI lists: each exits 0 and
// prints its usage (its synopsis, then what it does), and does nothing else.
import { describe, expect, it } from 'vitest';
import { telemed } from './telemed-cli.js';

/** The commands of `telemed --help`'s list (`  telemed <command> …` lines): a command is its leading lowercase words. */
function listedCommands(help: string): string[] {
  const list = help.split('\ncommands:\n')[1]?.split('\n\n')[0] ?? '';
  return list.split('\n').map((line) => /^ {2}telemed ([a-z][a-z-]*(?: [a-z][a-z-]*)*)(?= |$)/.exec(line)?.[1] ?? `(unparsed) ${line}`);
}

describe('telemed --help', () => {
  it("lists every command, and each command's --help exits 0 with its usage", async () => {
    const all = await telemed(['--help']);
    expect(all.code, all.stderr).toBe(0);
    const commands = listedCommands(all.stdout);
    expect(commands.filter((c) => c.startsWith('(unparsed)'))).toEqual([]);
    expect(commands).toEqual(expect.arrayContaining(['serve', 'migrate', 'token create', 'calls list', 'calls access', 'webhooks test', 'load-test']));
    // The one-line usage names the same commands as the list.
    expect(/^usage: telemed (.+?) \[options\]/.exec(all.stdout)?.[1]?.split('|')).toEqual(commands);

    for (const command of commands) {
      const help = await telemed([...command.split(' '), '--help']);
      expect(help.code, `${command} --help: ${help.stderr}`).toBe(0);
      const [synopsis, description] = help.stdout.split('\n');
      expect(synopsis, command).toMatch(new RegExp(`^telemed ${command}( |$)`));
      expect(all.stdout, command).toContain(`  ${synopsis}\n`);
      expect(description, command).toMatch(/^ {2}\S.{20,}/);
    }
    // What is no command is not taken for one.
    expect(await telemed(['nosuch', '--help'])).toMatchObject({ code: 64, stderr: expect.stringContaining('usage: telemed') });
  });
});

/** !help [COMMAND]: the commands, or one command's usage. */
import { UserError } from '../src/errors';
import { didYouMean } from '../src/hosts/did-you-mean';
import { defineCommand, type CommandSpec } from './types';

export function findCommand(commands: readonly CommandSpec[], name: string): CommandSpec | undefined {
  const n = name.toLowerCase();
  return commands.find((c) => c.name === n || c.aliases?.includes(n));
}

export function describeUsage(spec: CommandSpec): string {
  const who = spec.role === 'anyone' ? 'anyone' : `${spec.role} role`;
  return `usage: !${spec.usage} — ${spec.summary} (${who})`;
}

export const help = defineCommand<{ command?: string }>({
  name: 'help',
  usage: 'help [COMMAND]',
  summary: 'the commands, or one command’s usage',
  role: 'anyone',
  parse(words) {
    if (words.length > 1) throw new UserError('name at most one command', 'E_USAGE');
    return { command: words[0]?.replace(/^!/, '') };
  },
  async run(ctx) {
    const { command } = ctx.args;
    if (!command) {
      await ctx.reply(`commands: ${ctx.commands.map((c) => `!${c.name}`).join(' ')} — !help COMMAND for its usage`);
      return;
    }
    const spec = findCommand(ctx.commands, command);
    if (!spec) {
      throw new UserError(`no command !${command.slice(0, 32)}${didYouMean(command, ctx.commands.map((c) => c.name), '!')}`, 'E_UNKNOWN_COMMAND');
    }
    await ctx.reply(describeUsage(spec));
  },
});

/** !whoami: who rekick thinks you are (the identity roles are granted to) and the roles you hold. */
import { UserError } from '../src/errors';
import { defineCommand } from './types';

export const whoami = defineCommand<Record<string, never>>({
  name: 'whoami',
  usage: 'whoami',
  summary: 'who rekick thinks you are, and your roles',
  role: 'anyone',
  parse(words) {
    if (words.length) throw new UserError('!whoami takes no arguments', 'E_USAGE');
    return {};
  },
  async run(ctx) {
    const user = ctx.message.user;
    const key = ctx.roles.key(user);
    if (!key) {
      const hint = user.unconfirmed
        ? `rekick could not confirm your services account (${user.unconfirmed}): try again`
        : user.source === 'irc' ? 'you are not logged in to services (NickServ): log in to get your roles' : 'rekick cannot tell who you are';
      await ctx.reply(`you are ${user.display} (${user.source}, no identity): no roles — ${hint}`);
      return;
    }
    const roles = ctx.roles.rolesOf(user);
    await ctx.reply(`you are ${user.display} (${key}): ${roles.length ? `roles ${roles.join(', ')}` : 'no roles (anyone’s commands only)'}`);
  },
});

/** The field types the config schema's sections share: durations, host names, file modes, chat identities. */
import { z } from 'zod';
import { parseDuration } from './duration';

/** Seconds as a number, or a duration like 90s, 20m, 6h or 14d; always milliseconds once parsed. */
export const duration = (desc: string) =>
  z
    .union([z.string(), z.number()])
    .transform((v, ctx) => {
      if (typeof v === 'number') return v * 1000;
      const ms = parseDuration(v);
      if (ms === undefined) {
        ctx.addIssue({ code: 'custom', message: `expected a duration like 90s, 20m, 6h or 14d, got "${v}"` });
        return z.NEVER;
      }
      return ms;
    })
    .describe(desc);

export const hostName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9.-]{0,252}$/, 'expected a host name (letters, digits, dots and dashes)');

export const fileMode = z
  .union([z.string(), z.number()])
  .transform((v, ctx) => {
    const s = typeof v === 'number' ? v.toString(8) : v;
    if (!/^0?[0-7]{3,4}$/.test(s)) {
      ctx.addIssue({ code: 'custom', message: `expected an octal file mode like "0644", got "${v}"` });
      return z.NEVER;
    }
    return parseInt(s, 8);
  });

export const identity = z
  .string()
  .regex(/^(irc|slack|console|cli):\S+$/, 'expected irc:ACCOUNT or slack:USERID');

/** Turns the Koji client's outage events into one chat notice when the hub goes away and one when it is back. */
import { formatDuration } from '../present/duration';
import type { KojiOutageEvent } from './outage';

export function kojiOutageNotices(server: string, notify: (level: 'info' | 'warn', text: string) => void): (e: KojiOutageEvent) => void {
  return (e) => {
    if (e.state === 'down') {
      notify('warn', `Koji hub ${server} is unreachable (${e.error?.message ?? 'no answer'}); rekick keeps retrying and jobs wait`);
    } else {
      const lasted = e.since ? ` after ${formatDuration(e.at.getTime() - e.since.getTime())}` : '';
      notify('info', `Koji hub ${server} answers again${lasted}; jobs go on`);
    }
  };
}

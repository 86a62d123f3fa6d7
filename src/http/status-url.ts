/** The status page's address for chat: the configured one, else rekick's own (with the machine's name for 0.0.0.0). */
import { hostname } from 'node:os';

export function statusPageUrl(configured: string | undefined, serverUrl: string | undefined): string | undefined {
  if (configured) return configured;
  if (!serverUrl) return undefined;
  // Listening on every address: the machine's name is where people find it.
  return serverUrl.replace(/^http:\/\/(0\.0\.0\.0|\[::\])(?=:)/, `http://${hostname()}`);
}

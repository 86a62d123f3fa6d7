/** Every chat command, in the order !help lists them. */
import { approve } from './approve';
import { cancel } from './cancel';
import { deny } from './deny';
import { help } from './help';
import { hosts } from './hosts';
import { queue } from './queue';
import { reinstall } from './reinstall';
import { retry } from './retry';
import { rolling } from './rolling';
import { status } from './status';
import type { CommandSpec } from './types';
import { whoami } from './whoami';

export const commands: readonly CommandSpec[] = [reinstall, status, queue, approve, deny, cancel, retry, rolling, hosts, help, whoami];

export type { CommandSpec, CommandContext, CommandMessage, Role, RoleLookup, RollingApi, RollingStartOptions, HostsInfo, HostKojiInfo, ParsedArgs } from './types';
export { approve, cancel, deny, help, hosts, queue, reinstall, retry, rolling, status, whoami };

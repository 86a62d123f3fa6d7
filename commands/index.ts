/** Every chat command, in the order !help lists them. */
import { approve } from './approve';
import { cancel } from './cancel';
import { deny } from './deny';
import { help } from './help';
import { hosts } from './hosts';
import { queue } from './queue';
import { createCommandRegistry } from './registry';
import { reinstall } from './reinstall';
import { retry } from './retry';
import { rolling } from './rolling';
import { status } from './status';
import type { CommandSpec } from './types';
import { whoami } from './whoami';

export const commands: readonly CommandSpec[] = [reinstall, status, queue, approve, deny, cancel, retry, rolling, hosts, help, whoami];

/** The same commands as the router looks them up (handed to it by the composition). */
export const commandRegistry = createCommandRegistry(commands);

export type { CommandSpec, CommandContext, CommandMessage, Role, RoleLookup, RollingApi, RollingStartOptions, HostsInfo, HostKojiInfo, ParsedArgs } from './types';
export { approve, cancel, deny, help, hosts, queue, reinstall, retry, rolling, status, whoami };

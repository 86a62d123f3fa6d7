/**
 * rekick's public face: what a program built on rekick (the lab, a packaged entry point) may use. Everything else
 * under src/ is internal; the import-boundary test holds the lab and bin/ to this file.
 */
export { runBot } from './cli-commands';
export { runCliProcess, type Subcommand } from './cli';
export { createRekick } from './main';
export { loadConfig } from './config/load';
export type { Config, HostConfig } from './config/schema';
export { CodedError } from './errors';
export { TASK_STATES } from './koji/types';
export { loadKerberosBinding, withKrb5Env, type KerberosBinding } from './koji/kerberos';
export { BOOT_ID_PATH } from './ssh/boot-id';
export { decodeArgs, decodeMethodCall, encodeFault, encodeMethodResponse, isStruct, type XmlRpcValue } from './koji/xmlrpc';

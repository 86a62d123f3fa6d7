/**
 * The `rekick` command: production's subcommands (src/cli.ts) and the lab's (`rekick lab`, lab/command.ts).
 */
import { runCliProcess } from '../src';
import { labSubcommand } from '../lab/command';

runCliProcess({ lab: labSubcommand });

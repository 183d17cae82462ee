import { Command } from 'commander';
import { registerAdaptersCommands } from './adapters/adapters.command';
import { CliContext, type CliDeps } from './cli-context';
import { errorLines, exitCodeFor } from './cli-errors';
import { registerDatasetsCommands } from './datasets/datasets.command';
import { ExitCode } from './exit-codes';
import { registerJobsCommands } from './jobs/jobs.command';
import { registerModelsCommands } from './models/models.command';
import { registerNodesCommands } from './nodes/nodes.command';
import { registerTeamsCommands } from './teams/teams.command';
import { registerTokensCommands } from './tokens/tokens.command';
import { CLI_VERSION } from './version';

const HELP_FOOTER = `
Configuration: --api-url/--token, else GROVE_API_URL/GROVE_TOKEN, else api_url/token in the config file
(GROVE_CONFIG, default ~/.config/grove/config.yaml); the API URL defaults to http://127.0.0.1:8080.
Exit codes: 0 ok, 1 job failed, 2 usage or bad input, 3 API error, 4 job cancelled, 5 API unreachable,
6 local failure. See docs/ci.md.`;

/** The `grove` command tree. Commander is told to throw rather than exit, so runCli decides the exit code. */
export function buildProgram(ctx: CliContext): Command {
  const program = new Command('grove')
    .description('Grove: submit and follow LoRA fine-tune jobs, manage datasets, models, nodes and tokens')
    .version(CLI_VERSION)
    .option('--api-url <url>', 'control plane URL')
    .option('--token <token>', 'API token')
    .option('--json', 'print the API JSON instead of tables')
    .option('-q, --quiet', 'print only ids')
    .exitOverride()
    .showHelpAfterError()
    .configureOutput({ writeOut: (s) => ctx.deps.stdout.write(s), writeErr: (s) => ctx.deps.stderr.write(s) })
    .addHelpText('after', HELP_FOOTER);
  registerJobsCommands(program, ctx);
  registerDatasetsCommands(program, ctx);
  registerAdaptersCommands(program, ctx);
  registerModelsCommands(program, ctx);
  registerNodesCommands(program, ctx);
  registerTokensCommands(program, ctx);
  registerTeamsCommands(program, ctx);
  return program;
}

/** Runs one command line; returns the exit code instead of exiting (main.ts sets it). */
export async function runCli(argv: string[], deps: CliDeps): Promise<number> {
  try {
    await buildProgram(new CliContext(deps)).parseAsync(argv, { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    for (const line of errorLines(error)) deps.stderr.write(`${line}\n`);
    return exitCodeFor(error);
  }
}

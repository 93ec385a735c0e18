import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { registerApproveCommand } from './commands/approve.js';
import { registerAuditCommand } from './commands/audit.js';
import { registerBacktestCommand } from './commands/backtest.js';
import { registerConfigCommand } from './commands/config.js';
import { applyContract } from './commands/contract.js';
import { registerDemoCommand } from './commands/demo.js';
import { registerDoctorCommand } from './commands/doctor.js';
import { registerFindingsCommands } from './commands/findings.js';
import { registerHoldCommands } from './commands/hold.js';
import { registerOnceCommand } from './commands/once.js';
import { registerPauseCommands } from './commands/pause.js';
import { registerPolicyCommand } from './commands/policy.js';
import { registerRunCommand } from './commands/run.js';
import { registerSandboxCommand } from './commands/sandbox.js';
import { registerSilenceCommands } from './commands/silence.js';
import { registerStatusCommand } from './commands/status.js';
import { foldMetadataWarnings } from './core/warnings.js';

/** The `vigil` command line. Each command lives in src/commands/ and registers itself here, explicitly. */
const packageJson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  version: string;
};

foldMetadataWarnings();

const program = applyContract(new Command())
  .name('vigil')
  .description(
    'Self-healing daemon for data platforms: detects metric anomalies and runs audited, low-risk remediations.',
  )
  .version(packageJson.version, '-V, --version')
  .showHelpAfterError()
  .addHelpText(
    'after',
    '\nExamples:\n  $ vigil demo                                  # the seed incident end to end, ~15 s\n  $ vigil run -c examples/minimal.yaml\n  $ vigil config check examples/minimal.yaml\n  $ vigil audit verify -c examples/nba-props.yaml',
  );

registerRunCommand(program);
registerDemoCommand(program);
registerConfigCommand(program);
registerOnceCommand(program);
registerBacktestCommand(program);
registerPolicyCommand(program);
registerSandboxCommand(program);
registerAuditCommand(program);
registerApproveCommand(program);
registerStatusCommand(program);
registerDoctorCommand(program);
registerPauseCommands(program);
registerSilenceCommands(program);
registerHoldCommands(program);
registerFindingsCommands(program);

await program.parseAsync(process.argv);

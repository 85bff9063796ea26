// The `skydeck` command. Commands load their modules only when they run, so `--help` and small commands stay fast.
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { VERSION } from '../../protocol/build-info';
import { EXIT, runAction } from './output';

const collect = (value: string, previous: string[]) => [...previous, value];
const wholeNumber = (value: string) => {
  if (!/^\d+$/.test(value)) throw new InvalidArgumentError('expected a whole number');
  return Number(value);
};
const positiveNumber = (value: string) => {
  const n = wholeNumber(value);
  if (n < 1) throw new InvalidArgumentError('expected a number of at least 1');
  return n;
};

const commands = {
  launch: () => import('./commands/launch'),
  clusters: () => import('./commands/clusters'),
  api: () => import('./commands/api'),
  login: () => import('./commands/login'),
  accounts: () => import('./commands/accounts'),
  ssh: () => import('./commands/ssh'),
  portForward: () => import('./commands/port-forward'),
  jobs: () => import('./commands/jobs'),
  dashboard: () => import('./commands/dashboard'),
  infra: () => import('./commands/infra'),
};

// SkyPilot's autostop idleness criteria; SkyDeck counts jobs and requests only (client/cli/commands/clusters.ts waitForJobsOnly).
const waitForChoice = (value: string) => {
  if (!['jobs_and_ssh', 'jobs', 'none'].includes(value)) throw new InvalidArgumentError('expected jobs_and_ssh, jobs or none');
  return value;
};

function program(): Command {
  const skydeck = new Command('skydeck')
    .description('Launch tasks onto clusters through the SkyDeck API server, and watch and steer the requests on it.')
    .version(VERSION, '-v, --version')
    // -v after a command is that command's (status -v, check -v: verbose), as in SkyPilot.
    .enablePositionalOptions()
    .showHelpAfterError('(add --help for usage)')
    .exitOverride();

  // SkyPilot's task options: each overrides the task file's key (`none` removes it), as `sky launch` does.
  const taskFlags = (command: Command, name = 'task name (overrides name)') =>
    command
      .option('-n, --name <name>', name)
      .option('--workdir <dir>', 'folder synced to the nodes (overrides workdir)')
      .option('--git-url <url>', 'a git repository cloned as the workdir (workdir: {url}); a local path works too')
      .option('--git-ref <ref>', 'the branch, tag or commit of it to check out (workdir: {ref})')
      .option('--infra <infra>', 'where to run: local, ssh/<pool>, slurm/<partition>... (overrides resources.infra)')
      .option('--cloud <kind>', 'infra kind (overrides the first part of resources.infra)')
      .option('--region <region>', 'region (overrides the second part of resources.infra)')
      .option('--zone <zone>', 'zone (overrides the third part of resources.infra)')
      .option('--num-nodes <n>', 'nodes to run on (overrides num_nodes)', wholeNumber)
      .option('--cpus <n>', 'vCPUs per node: 4 or 4+ (overrides resources.cpus)')
      .option('--memory <gib>', 'memory per node in GiB: 16 or 16+ (overrides resources.memory)')
      .option('--gpus <name:count>', 'accelerators per node, such as A100:2 (overrides resources.accelerators)')
      .option('-t, --instance-type <type>', 'instance type (overrides resources.instance_type)')
      .option('--use-spot', 'use spot capacity (overrides resources.use_spot)')
      .option('--no-use-spot', 'do not use spot capacity (overrides resources.use_spot)')
      .option('--image-id <image>', 'image, such as docker:python:3.12 (overrides resources.image_id)')
      .option('--disk-size <gib>', 'OS disk size in GiB (overrides resources.disk_size)')
      .option('--disk-tier <tier>', 'low, medium, high, ultra or best (overrides resources.disk_tier)')
      .option('--network-tier <tier>', 'standard or best (overrides resources.network_tier)')
      .option('--ports <ports>', 'ports to open: 8080, 8000-8010 (repeatable; overrides resources.ports)', collect, [])
      .option('--env <KEY=VALUE>', 'set an env (repeatable); a bare KEY takes its value from your environment', collect, [])
      .option('--env-file <file>', 'read envs from a file of KEY=VALUE lines')
      .option('--secret <KEY=VALUE>', 'set a secret (repeatable); a bare KEY takes its value from your environment', collect, [])
      .option('--secret-file <file>', 'read secrets from a file of KEY=VALUE lines')
      .option('--config <file|key=value>', 'SkyPilot config overrides: a YAML file or nested.key=value (repeatable)', collect, [])
      .option('--async', 'submit, print the request id and return at once');
  const taskOptions = (command: Command) =>
    taskFlags(command.option('-c, --cluster <name>', 'cluster to run on')).option('-d, --detach-run', 'return once the job has started instead of following it');

  taskOptions(
    skydeck
      .command('launch')
      .description('provision a cluster (or reuse it) and run a task on it, streaming its log; exits with the job exit code')
      .argument('[entrypoint...]', 'a task YAML file, or a command to run'),
  )
    .option('-y, --yes', 'skip the confirmation')
    .option('--dryrun', 'show the plan (where it would run, the considered resources) and create nothing')
    .option('-i, --idle-minutes-to-autostop <minutes>', 'stop the cluster after this many idle minutes', wholeNumber)
    .option('--down', 'tear the cluster down once its jobs have finished (after -i minutes idle, when given)')
    .option('-r, --retry-until-up', 'keep waiting for capacity instead of failing when no infra can hold the task now')
    .option('--no-setup', 'skip the setup commands')
    .option('--fast', 'on a cluster that is already UP, skip provisioning and setup')
    .option('--wait-for <what>', 'what keeps the cluster from being idle: only jobs is honoured here (jobs and requests count, terminals do not)', waitForChoice)
    .option('--clone-disk-from, --clone <cluster>', "refused: SkyDeck's infra has no disk images to clone a cluster's disk from")
    .option('--docker', "refused: SkyPilot's deprecated local docker backend; give --image-id docker:IMAGE instead")
    .action((entrypoint: string[], options) => runAction(async () => (await commands.launch()).launch(entrypoint, options)));

  taskOptions(
    skydeck
      .command('exec')
      .description('run a task on an existing cluster, streaming its log; exits with the job exit code')
      .argument('[args...]', 'CLUSTER (unless -c is given), then a task YAML file or a command to run'),
  ).action((args: string[], options) => runAction(async () => (await commands.launch()).exec(args, options)));

  skydeck
    .command('status')
    .description('show clusters')
    .argument('[clusters...]', 'only these clusters')
    .option('-r, --refresh', 'ask the infra for the current state first')
    .option('-u, --all-users', "everyone's clusters (default: yours)")
    .option('-v, --verbose', 'more columns: head IP, ports, labels')
    .option('--ip', "print the cluster's head node address")
    .option('--endpoints', "print the cluster's exposed ports as URLs")
    .option('--endpoint <port>', 'print the URL of this exposed port', wholeNumber)
    .option('--show-managed-jobs', 'after the clusters, your managed jobs in progress (the default)', true)
    .option('--no-show-managed-jobs', 'only the clusters')
    .option('--show-services', 'accepted: SkyDeck runs no services (sky serve), there are none to show')
    .option('--no-show-services', 'accepted (there are no services to show)')
    .option('--show-pools', 'accepted: SkyDeck has no pools of workers, there are none to show')
    .option('--no-show-pools', 'accepted (there are no pools to show)')
    .option('-o, --output <format>', 'table or json')
    .option('--json', 'print JSON')
    .action((names: string[], options) => runAction(async () => (await commands.clusters()).status(names, options)));

  skydeck
    .command('queue')
    .description("show clusters' jobs (all your clusters when none is named)")
    .argument('[clusters...]')
    .option('-u, --all-users', "everyone's jobs (default: yours)")
    .option('-s, --skip-finished', 'only jobs that have not finished')
    .option('-o, --output <format>', 'table or json')
    .option('--json', 'print JSON')
    .action((clusters: string[], options) => runAction(async () => (await commands.clusters()).queue(clusters, options)));

  skydeck
    .command('logs')
    .description("stream a job's log (the latest job when no id is given)")
    .argument('<cluster>')
    .argument('[jobs...]', 'job id (several with --sync-down)')
    .option('--tail <lines>', 'start this many lines from the end', wholeNumber)
    .option('--status', 'print the job status and exit 0 succeeded, 100 failed, 101 not finished, 102 not found, 103 cancelled')
    .option('-s, --sync-down', 'download the logs to SKYDECK_HOME/logs/CLUSTER/')
    .option('--provision', "the cluster's provisioning log: the launch that made it, from choosing the infra to UP")
    .option('-w, --worker <rank>', 'refused: a cluster is provisioned in one log here (--provision names each node in it)', wholeNumber)
    .option('--autostop', 'refused: SkyDeck runs no autostop hook (the stop or down shows in `api status -a -c CLUSTER`)')
    .option('--follow', 'keep streaming until the job ends (the default)', true)
    .option('--no-follow', 'print what is there and return')
    .action((cluster: string, jobs: string[], options) => runAction(async () => (await commands.clusters()).logs(cluster, jobs, options)));

  skydeck
    .command('cancel')
    .description('cancel jobs on a cluster')
    .argument('<cluster>')
    .argument('[jobs...]', 'job ids')
    .option('-a, --all', 'all your unfinished jobs on the cluster (asks first)')
    .option('-u, --all-users', "everyone's unfinished jobs on the cluster (the cluster's owner or an admin; asks first)")
    .option('-y, --yes', 'skip the confirmation')
    .option('--async', 'submit, print the request id and return at once')
    .action((cluster: string, jobs: string[], options) => runAction(async () => (await commands.clusters()).cancelJobs(cluster, jobs, options)));

  for (const [name, description] of [
    ['stop', 'stop clusters (their ongoing requests are cancelled first)'],
    ['start', 'start stopped clusters (with -a, asks first)'],
    ['down', 'tear clusters down (their ongoing requests are cancelled first)'],
  ] as const) {
    const command = skydeck.command(name).description(description).argument('[clusters...]').option('-a, --all', 'all your clusters');
    if (name !== 'start') command.option('-u, --all-users', "everyone's clusters (the server lets only their owners or an admin act on them)");
    command.option('-y, --yes', 'skip the confirmation').option('--async', 'submit, print the request id (one per cluster) and return at once');
    if (name === 'down') command.option('-p, --purge', 'forget the cluster even when its teardown fails (the log says what may be left to clean up)');
    if (name !== 'start') {
      command
        .option('--graceful', 'accepted: there are no cached uploads (MOUNT_CACHED) to wait for; jobs are cancelled at once')
        .option('--graceful-timeout <seconds>', 'accepted, as --graceful', wholeNumber);
    }
    if (name === 'start') {
      command
        .option('-i, --idle-minutes-to-autostop <minutes>', 'once started, stop the cluster after this many idle minutes', wholeNumber)
        .option('--down', 'with -i: tear the cluster down instead of stopping it')
        .option('--wait-for <what>', 'what keeps the cluster from being idle: only jobs is honoured here (jobs and requests count, terminals do not)', waitForChoice)
        .option('-r, --retry-until-up', 'accepted: a stopped cluster restarts on the nodes it holds, there is no capacity to wait for')
        .option('-f, --force', 'accepted: an UP cluster is left as it is (there is no SkyPilot runtime on the nodes to reinstall)');
    }
    command.action((clusters: string[], options) => runAction(async () => (await commands.clusters()).lifecycle(name, clusters, options)));
  }

  skydeck
    .command('autostop')
    .description('stop (or with --down, tear down) clusters once idle for some minutes; --cancel clears it')
    .argument('[clusters...]')
    .option('-a, --all', 'all your UP clusters')
    .option('-i, --idle-minutes <minutes>', 'idle minutes before it acts (default 5)', wholeNumber)
    .option('--down', 'tear the cluster down instead of stopping it')
    .option('--cancel', 'clear the autostop')
    .option('-u, --all-users', "everyone's UP clusters (the server lets only their owners or an admin act on them)")
    .option('-y, --yes', 'skip the confirmation (asked with -a or -u)')
    .option('--async', 'submit, print the request id (one per cluster) and return at once')
    .option('--wait-for <what>', 'what keeps the cluster from being idle: only jobs is honoured here (jobs and requests count, terminals do not)', waitForChoice)
    .action((clusters: string[], options) => runAction(async () => (await commands.clusters()).autostop(clusters, options)));

  skydeck
    .command('ssh')
    .description("open a shell on a cluster node through the API server, or run one command there and exit with its code")
    .argument('<cluster>')
    .argument('[command...]', 'after --: a command to run instead of an interactive shell')
    .option('-n, --node <rank>', 'the node (0 = head)', wholeNumber)
    .option('-t, --tty', 'give the command a terminal (PTY) even when it has one to run')
    .option('-T, --no-tty', 'no terminal, even for an interactive shell')
    .action((cluster: string, command: string[], options) => runAction(async () => (await commands.ssh()).ssh(cluster, command, options)));

  skydeck
    .command('port-forward')
    .description("forward a port the cluster's task declared to 127.0.0.1 here, through the API server; runs until Ctrl+C")
    .argument('<cluster>')
    .argument('<port>', 'the port on the cluster (one of its resources.ports)', wholeNumber)
    .option('-l, --local-port <port>', 'listen on this local port (default: any free one)', wholeNumber)
    .action((cluster: string, port: number, options) => runAction(async () => (await commands.portForward()).portForward(cluster, port, options)));

  const jobs = skydeck.command('jobs').description('managed jobs: the server runs each to its end on a cluster of its own, recovering it when the infra fails');
  taskFlags(
    jobs
      .command('launch')
      .description('submit a managed job (a task file, a pipeline of tasks in one multi-document file, or a command) and stream its log; Ctrl+C detaches')
      .argument('[entrypoint...]', 'a task YAML file, or a command to run'),
    'job name (and the task name of a one-task job)',
  )
    .option('-c, --cluster <name>', 'deprecated alias of -n/--name (as in SkyPilot)')
    .option('-d, --detach-run', 'return once the job is submitted instead of streaming its log')
    .option('--job-recovery <strategy>', 'EAGER_NEXT_REGION or FAILOVER (overrides resources.job_recovery)')
    .option('-p, --pool <pool>', 'refused: SkyDeck has no pools of workers; each managed job gets a cluster of its own')
    .option('--num-jobs <n>', 'refused: it goes with --pool, which SkyDeck does not have', wholeNumber)
    .option('-y, --yes', 'skip the confirmation')
    .action((entrypoint: string[], options) => runAction(async () => (await commands.jobs()).launch(entrypoint, options)));
  jobs
    .command('queue')
    .description('show your managed jobs (the 50 most recent)')
    .option('-u, --all-users', "everyone's managed jobs (admins)")
    .option('-a, --all', 'every job, not only the 50 most recent')
    .option('-l, --limit <n>', 'the n most recent jobs (default 50)', positiveNumber)
    .option('-s, --skip-finished', 'only jobs that have not finished')
    .option('-v, --verbose', "more columns: each job's cluster, infra and recovery policy")
    .option('-r, --refresh', 'query the latest statuses (always live here: the server itself is the jobs controller)')
    .option('-o, --output <format>', 'table or json')
    .option('--json', 'print JSON')
    .action((options) => runAction(async () => (await commands.jobs()).queue(options)));
  jobs
    .command('logs')
    .description("stream a managed job's log across its recoveries (your latest job when no id is given)")
    .argument('[id]')
    .option('-n, --name <name>', 'the job of this name (the latest one, when several have it)')
    .option('--follow', 'keep streaming until the job ends (the default)', true)
    .option('--no-follow', 'print what is there and return')
    .option('-r, --refresh', 'query the latest log (always live here: the server itself is the jobs controller)')
    .option('-s, --sync-down', "download the job's log to SKYDECK_HOME/logs/managed-jobs/ instead of streaming it")
    .option('--controller', "the controller's log: placement, provisioning, recoveries and why")
    .option('--tail <lines>', 'start this many lines from the end', wholeNumber)
    .action((id: string | undefined, options) => runAction(async () => (await commands.jobs()).logs(id, options)));
  jobs
    .command('cancel')
    .description('cancel managed jobs, whatever their state (their clusters are torn down)')
    .argument('[ids...]', 'managed job ids')
    .option('-n, --name <name>', 'the unfinished jobs of this name')
    .option('-a, --all', 'all your unfinished managed jobs')
    .option('-u, --all-users', "with -a: everyone's (admins)")
    .option('-y, --yes', 'skip the confirmation')
    .option('-p, --pool <pool>', 'refused: SkyDeck has no pools of workers')
    .option('--graceful', 'accepted: there are no cached uploads (MOUNT_CACHED) to wait for; jobs are cancelled at once')
    .option('--graceful-timeout <seconds>', 'accepted, as --graceful', wholeNumber)
    .action((ids: string[], options) => runAction(async () => (await commands.jobs()).cancel(ids, options)));

  skydeck
    .command('check')
    .description('show which infra the server can use, why not, and how to enable it')
    .argument('[infra...]', 'only these: a kind (ssh, slurm, local) or one infra (ssh/<pool>, slurm/<partition>)')
    .option('-v, --verbose', 'also list each infra\'s nodes: address, state, CPUs, memory, free disk, GPUs, clusters')
    .option('-w, --workspace <name>', 'accepted: SkyDeck has no workspaces, every infra of the server is checked')
    .option('-o, --output <format>', 'table or json (json has the nodes)')
    .option('--json', 'print JSON (same as -o json)')
    .action((infra: string[], options) => runAction(async () => (await commands.infra()).check(infra, options)));

  const gpusList = (command: Command) =>
    command
      .argument('[accelerator]', 'only this accelerator type (A100, T4...)')
      .option('--infra <infra>', 'only this infra: ssh, ssh/<pool>, slurm/<partition>, local')
      .option('--cloud <kind>', 'only this kind of infra (the first part of --infra)')
      .option('--region <region>', 'with --cloud: only this pool or partition (the second part of --infra)')
      .option('-a, --all', 'accepted: every accelerator on the enabled infra is always listed')
      .option('--all-regions', 'accepted: there are no prices or regions to compare; each infra is its own row')
      .option('-v, --verbose', 'accepted: each row already names its infra and quantities per node')
      .option('-o, --output <format>', 'table or json')
      .option('--json', 'print JSON (same as -o json)')
      .action((name: string | undefined, options) => runAction(async () => (await commands.infra()).gpusList(name, options)));
  gpusList(skydeck.command('gpus').description('accelerators on the enabled infra').command('list').description('list the accelerators on the enabled infra (local and SSH hosts by nvidia-smi, Slurm nodes by GRES)'));
  gpusList(skydeck.command('show-gpus').description('the accelerators on the enabled infra (same as gpus list)'));

  skydeck
    .command('dashboard')
    .description("open the server's dashboard in a browser, signed in")
    .option('--url', 'print the one-time sign-in link instead of opening a browser')
    .action((options) => runAction(async () => (await commands.dashboard()).dashboard(options)));

  const api = skydeck.command('api').description('the API server and its requests');
  api
    .command('info')
    .description('show the endpoint, server health, version and who you are')
    .option('-o, --output <format>', 'table or json')
    .option('--json', 'print JSON (same as -o json)')
    .action((options) => runAction(async () => (await commands.api()).info(options)));
  api
    .command('status')
    .description('list ongoing requests (with -a, finished ones too)')
    .argument('[ids...]', 'only these requests (ids or unique prefixes)')
    .option('-a, --all-status', 'include finished requests (SUCCEEDED, FAILED, CANCELLED)')
    // Its long name before SkyPilot's --all-status was adopted; kept so that existing scripts go on working.
    .addOption(new Option('--all').hideHelp())
    .option('-u, --all-users', "everyone's requests (default: yours)")
    .option('-c, --cluster <name>', 'only requests on this cluster')
    .option('-s, --status <status>', 'only requests in this status')
    .option('-l, --limit <n>', 'at most this many', wholeNumber)
    .option('-v, --verbose', 'full request ids')
    .option('-o, --output <format>', 'table or json')
    .option('--json', 'print JSON')
    .action((ids: string[], options) => runAction(async () => (await commands.api()).requestStatus(ids, options)));
  api
    .command('logs')
    .description("stream a request's log (any unique id prefix works), or with --server-logs the local server's own")
    .argument('[id]')
    .option('--server-logs', "the local API server's own log (a remote server's log is on its machine)")
    .option('-l, --log-path <path>', 'refused: request logs are read by request id here')
    .option('--follow', 'keep streaming until the request ends (the default)', true)
    .option('--no-follow', 'print what is there and return')
    .option('--tail <lines>', 'start this many lines from the end', wholeNumber)
    .action((id: string | undefined, options) => runAction(async () => (await commands.api()).logs(id, options)));
  api
    .command('cancel')
    .description('cancel requests')
    .argument('[ids...]', 'ids or unique prefixes')
    .option('-a, --all', 'all your ongoing requests (asks first)')
    .option('-u, --all-users', "everyone's ongoing requests (admins, on a team server; asks first)")
    .option('-y, --yes', 'skip the confirmation')
    .action((ids: string[], options) => runAction(async () => (await commands.api()).cancel(ids, options)));
  api
    .command('start')
    .description('start the local API server')
    .option('--foreground', 'run it attached to this terminal')
    .option('--deploy', 'refused: a server for a team is started with its accounts on its machine (docs/deploy.md)')
    .option('--host <host>', 'refused: the local server listens on loopback; a team server takes --host (docs/deploy.md)')
    .option('--enable-basic-auth', 'refused: a team server has accounts (skydeck users add; docs/deploy.md)')
    .action((options) => runAction(async () => (await commands.api()).start(options)));
  api
    .command('stop')
    .description('stop the local API server (the next command starts it again)')
    .action(() => runAction(async () => (await commands.api()).stop()));
  api
    .command('login')
    .description('choose the API server, check your credentials on it, and remember both')
    .option('-e, --endpoint <url>', 'the server, such as https://skydeck.example.com (user:password@ may ride in it)')
    .option('-u, --user <name>', 'log in as this user (the password is asked for, or read with --password-stdin)')
    .option('--password-stdin', 'read the password from the first line of stdin')
    .option('-t, --token <token>', 'log in with a service-account token')
    .option('--service-account-token <token>', 'same as --token (SkyPilot\'s long name)')
    .option('--relogin', 'log in again even when credentials are saved (every login here checks them anew)')
    .option('--token-stdin', 'read the service-account token from stdin')
    .action((options) => runAction(async () => (await commands.login()).login(options)));
  api
    .command('logout')
    .description('forget the saved endpoint and its credentials')
    .action(() => runAction(async () => (await commands.login()).logout()));

  // Accounts of a team server, managed on its machine by the server program (see `skydeck users --help`).
  for (const [group, description] of [
    ['users', "a team server's users: add, remove, list, set-role, set-password"],
    ['tokens', "a team server's service-account tokens: create, list, revoke"],
  ] as const) {
    skydeck
      .command(group)
      .description(description)
      .helpOption(false)
      .allowUnknownOption()
      .allowExcessArguments()
      .argument('[args...]')
      .action((args: string[]) => runAction(async () => (await commands.accounts()).manage(group, args)));
  }

  acceptConfigEverywhere(skydeck);
  return skydeck;
}

/**
 * SkyPilot takes `--config` on every command (config overrides for that one call). Here config shapes
 * tasks only (launch, exec, jobs launch take it); elsewhere it is accepted and a note says so.
 */
function acceptConfigEverywhere(root: Command): void {
  const leaves = (command: Command): Command[] => (command.commands.length > 0 ? command.commands.flatMap(leaves) : [command]);
  for (const command of leaves(root)) {
    if (command.options.some((o) => o.long === '--config') || ['users', 'tokens'].includes(command.name())) continue;
    command.option('--config <file|key=value>', 'accepted: config overrides shape tasks here (launch, exec, jobs launch), not this command', collect, []);
    command.hook('preAction', (action) => {
      if ((action.opts().config as string[]).length > 0) process.stderr.write(`--config changes nothing for \`${action.parent === root ? '' : `${action.parent!.name()} `}${action.name()}\`: config overrides shape tasks here (launch, exec, jobs launch).\n`);
    });
  }
}

// `skydeck status | head` closes the pipe early; that is not an error.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw err;
});

program()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    if (err instanceof CommanderError) {
      // Help and version are not errors; anything else commander rejects is a usage error.
      process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return;
    }
    process.stderr.write(`Error: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = EXIT.error;
  });

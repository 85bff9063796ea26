// `skydeck launch` and `skydeck exec`: validate the task here, confirm, submit, and follow the job to its end.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Cluster } from '../../../protocol/model';
import type { ResourceCandidate, Task } from '../../../protocol/task';
import { TaskValidationError } from '../../../protocol/task-issues';
import { hasOverrides, resourceCandidates, taskInfra, unusedSections } from '../../../protocol/task-model';
import type { TaskOverrides } from '../../../protocol/task-overrides';
import { isApiError, taskIssues } from '../../errors';
import { shortId } from '../../format';
import { applyOverrides, configFromPairs } from '../../validation';
import { parseYaml } from '../../yaml-parse';
import { applyEnvs, expandPath, inlineTask, loadTaskFile, withLines, type TaskSource } from '../../task-file';
import { uploadTaskFiles } from '../../upload';
import { checkClusterName, checkWaitFor, refuseFlag } from '../args';
import { connectSoon } from '../context';
import { cachedParse } from '../task-cache';
import { followRequest } from '../follow';
import { finish } from '../outcome';
import { CliExit, EXIT, note, print } from '../output';
import { confirm } from '../prompt';

/** SkyPilot's task options (overrides of the file's keys, typed once in TaskOverrides); `--config` as given. */
export interface RunTaskOptions extends Omit<TaskOverrides, 'config'> {
  config?: string[];
  cluster?: string;
  yes?: boolean;
  env: string[];
  envFile?: string;
  secret?: string[];
  secretFile?: string;
  async?: boolean;
  detachRun?: boolean;
  idleMinutesToAutostop?: number;
  // launch only.
  dryrun?: boolean;
  down?: boolean;
  retryUntilUp?: boolean;
  /** false with --no-setup (commander's negated option). */
  setup?: boolean;
  fast?: boolean;
  /** launch: SkyPilot's autostop idleness criterion (only `jobs` is what SkyDeck does). */
  waitFor?: string;
  /** launch: refused (no disk images here; SkyPilot's deprecated local docker backend). `--clone-disk-from`/`--clone` land in `clone`. */
  clone?: string;
  docker?: boolean;
}

export async function launch(entrypoint: string[], options: RunTaskOptions): Promise<void> {
  await runTask('launch', entrypoint, options);
}

/** `exec [CLUSTER] [TASK]`: without -c the first argument names the cluster, as in `sky exec CLUSTER task.yaml`. */
export async function exec(args: string[], options: RunTaskOptions): Promise<void> {
  const [cluster, entrypoint] = options.cluster ? [options.cluster, args] : [args[0], args.slice(1)];
  if (!cluster) throw new CliExit(EXIT.usage, 'Error: name the cluster: skydeck exec CLUSTER task.yaml (or -c CLUSTER)');
  if (entrypoint.length === 0) throw new CliExit(EXIT.usage, 'Error: give a task file or a command to run');
  await runTask('exec', entrypoint, { ...options, cluster });
}

async function runTask(operation: 'launch' | 'exec', entrypoint: string[], options: RunTaskOptions): Promise<void> {
  if (options.clone !== undefined) refuseFlag('--clone-disk-from', "SkyDeck's infra (this machine, SSH hosts, Slurm nodes) has no disk images to clone a cluster's disk from");
  if (options.docker) refuseFlag('--docker', "SkyPilot's deprecated local docker backend; run the task in a container with --image-id docker:IMAGE");
  checkWaitFor(options.waitFor);
  // The server is asked whether it answers while the task is read and checked here; nothing is sent about
  // the task (and no local server is started) until all of it has been checked.
  const connection = await connectSoon();
  const { client } = connection.context;
  try {
    const source = prepareTask(taskSource(entrypoint), options);
    const clusterName = options.cluster ?? defaultClusterName();
    checkClusterName(clusterName);
    await connection.ready();
    // Like `sky exec`, exec runs on a cluster the user already has without asking.
    if (operation === 'launch' && (!options.yes || options.dryrun)) {
      // Where it would run, as the server's optimizer sees it: asked together with the clusters, and told after them.
      const planned = client.plan(source.task, clusterName).then(
        (plan) => ({ plan }),
        (err: unknown) => ({ err }),
      );
      const existing = (await client.clusters()).find((c) => c.name === clusterName);
      print(summary(source, clusterName, existing));
      const answer = await planned;
      // A task nothing can hold stops here (unless it may wait).
      if ('err' in answer) {
        const { err } = answer;
        if (!(options.retryUntilUp && !options.dryrun && isApiError(err, 'resources_unavailable'))) throw serverTaskIssues(err, source);
        note(`${err.message}
--retry-until-up: the launch will wait for capacity.`);
      } else if (!answer.plan.existingCluster) print(answer.plan.table);
      if (options.dryrun) {
        note('Dry run: nothing was created.');
        return;
      }
      if (!options.yes && !(await confirm('Proceed?'))) throw new CliExit(EXIT.error, 'Aborted; nothing was submitted.');
    }
    // A server on another machine cannot read this machine's paths: the files travel with the task.
    const task = await uploadTaskFiles(client, source.task, note);
    let requestId: string;
    try {
      requestId =
        operation === 'launch'
          ? await client.submit('launch', {
              task,
              clusterName,
              detachRun: options.detachRun,
              idleMinutesToAutostop: options.idleMinutesToAutostop,
              ...(options.down ? { down: true } : {}),
              ...(options.retryUntilUp ? { retryUntilUp: true } : {}),
              ...(options.setup === false ? { noSetup: true } : {}),
              ...(options.fast ? { fast: true } : {}),
            })
          : await client.submit('exec', { task, clusterName, detachRun: options.detachRun });
    } catch (err) {
      throw serverTaskIssues(err, source);
    }
    if (options.async) {
      print(requestId);
      note(`Submitted ${operation} request ${shortId(requestId)}. Follow it: skydeck api logs ${shortId(requestId)}`);
      return;
    }
    const finished = await followRequest(client, { id: requestId, name: operation });
    process.exitCode = finish(finished!, { logShown: true });
  } finally {
    client.close();
  }
}

/** The task with the command line on top: the flags' overrides, then envs and secrets, as `sky launch` applies them. */
export function prepareTask(source: TaskSource, options: RunTaskOptions, cwd = process.cwd(), environment: Record<string, string | undefined> = process.env): TaskSource {
  const overrides: TaskOverrides = {
    name: options.name,
    // --workdir is a path on the command line: relative to where the command runs, not to the task file.
    workdir: options.workdir === undefined ? undefined : resolve(cwd, options.workdir),
    numNodes: options.numNodes,
    infra: options.infra,
    cloud: options.cloud,
    region: options.region,
    zone: options.zone,
    cpus: options.cpus,
    memory: options.memory,
    gpus: options.gpus,
    instanceType: options.instanceType,
    useSpot: options.useSpot,
    imageId: options.imageId,
    diskSize: options.diskSize,
    diskTier: options.diskTier,
    networkTier: options.networkTier,
    ports: options.ports,
    jobRecovery: options.jobRecovery,
    // A repository path on the command line is taken from where the command runs (a URL as given).
    gitUrl: options.gitUrl === undefined ? undefined : /^(\.{0,2}\/|~)/.test(options.gitUrl) ? expandPath(options.gitUrl, cwd) : options.gitUrl,
    gitRef: options.gitRef,
    config: options.config && options.config.length > 0 ? configOverrides(options.config, cwd) : undefined,
  };
  let parsed = source.parsed ?? source.task;
  try {
    // Asked first: applyOverrides is in the bundle of yaml and zod, which a run without flags never loads.
    if (hasOverrides(overrides)) parsed = applyOverrides(parsed, overrides);
  } catch (err) {
    throw withLines(err, source);
  }
  return applyEnvs({ ...source, parsed }, { envArgs: options.env, envFile: options.envFile, secretArgs: options.secret, secretFile: options.secretFile, environment });
}

/** `--config` values: YAML files, or `nested.key=value` pairs whose values are read as YAML scalars. */
function configOverrides(values: string[], cwd: string): Record<string, unknown> {
  const pairs: [string, unknown][] = [];
  let merged: Record<string, unknown> = {};
  for (const value of values) {
    const eq = value.indexOf('=');
    const file = resolve(cwd, value);
    if (eq < 0 || existsSync(file)) {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new CliExit(EXIT.usage, `Error: --config ${value}: not a readable file, nor key=value`);
      }
      const doc = parseYaml(text) as unknown;
      if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new CliExit(EXIT.usage, `Error: --config ${value}: the file is not a YAML mapping`);
      merged = { ...merged, ...(doc as Record<string, unknown>) };
    } else {
      pairs.push([value.slice(0, eq), parseYaml(value.slice(eq + 1)) as unknown]);
    }
  }
  return { ...merged, ...configFromPairs(pairs) };
}

/** One argument that is a file (or looks like YAML) is a task file; otherwise the words are a command to run. */
function taskSource(entrypoint: string[]): TaskSource {
  if (entrypoint.length === 0) return { task: {} };
  const [first] = entrypoint;
  if (entrypoint.length === 1 && (/\.ya?ml$/i.test(first!) || existsSync(first!))) return loadTaskFile(first!, cachedParse);
  return inlineTask(entrypoint.join(' '));
}

/** A task the server rejects (`task_invalid`) is reported like a local one, at its lines. */
function serverTaskIssues(err: unknown, source: TaskSource): unknown {
  const issues = taskIssues(err);
  return issues ? withLines(new TaskValidationError(issues, source.file), source) : err;
}

/** SkyPilot names clusters it is not told about; so do we, once per launch. */
function defaultClusterName(): string {
  const suffix = Math.floor(Math.random() * 0x10000).toString(16).padStart(4, '0');
  const name = `skydeck-${suffix}`;
  note(`No cluster name given (-c); using ${name}.`);
  return name;
}

function summary(source: TaskSource, clusterName: string, existing: Cluster | undefined): string {
  const task = source.task;
  const nodes = task.num_nodes ?? 1;
  const lines = [`Task: ${task.name ?? source.file ?? '(inline command)'} (${nodes} node${nodes === 1 ? '' : 's'})`];
  lines.push(`  Infra: ${taskInfra(task)}   Resources: ${resources(task)}`);
  if (task.workdir) lines.push(`  Workdir: ${typeof task.workdir === 'string' ? task.workdir : `${task.workdir.url}${task.workdir.ref ? ` @ ${task.workdir.ref}` : ''}`}`);
  const envNames = Object.keys(task.envs ?? {});
  if (envNames.length > 0) lines.push(`  Envs: ${envNames.join(', ')}`);
  const secretNames = Object.keys(task.secrets ?? {});
  if (secretNames.length > 0) lines.push(`  Secrets: ${secretNames.join(', ')} (values not shown)`);
  if (task.run) lines.push(`  Run: ${firstLine(task.run)}`);
  for (const line of unusedSections(task)) lines.push(`  ${line}`);
  if (existing) lines.push(`Cluster: ${clusterName} (existing, ${existing.status}, ${existing.infra}, ${existing.numNodes} node${existing.numNodes === 1 ? '' : 's'})`);
  else lines.push(`Cluster: ${clusterName} (new; it will be provisioned)`);
  return lines.join('\n');
}

function resources(task: Task): string {
  const { candidates, ordered } = resourceCandidates(task.resources);
  const one = (r: ResourceCandidate) => {
    const parts = [r.cpus && `cpus=${r.cpus}`, r.memory && `memory=${r.memory}GiB`, r.accelerators && `accelerators=${r.accelerators}`, r.ports && `ports=${r.ports.join(',')}`].filter(Boolean);
    return parts.length > 0 ? parts.join(' ') : 'any';
  };
  if (candidates.length === 1) return one(candidates[0]!);
  return `${ordered ? 'in order' : 'any of'}: ${candidates.map((c) => `[${c.infra ? `${c.infra} ` : ''}${one(c)}]`).join(' ')}`;
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines.length > 1 ? `${lines[0]} ... (${lines.length} lines)` : lines[0]!;
}

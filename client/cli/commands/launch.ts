// `skydeck launch` and `skydeck exec`: validate the task here, confirm, submit, and follow the job to its end.
import { existsSync } from 'node:fs';
import type { Cluster } from '../../../protocol/model';
import { TaskValidationError, taskInfra, type Task } from '../../../protocol/task';
import { taskIssues } from '../../errors';
import { shortId } from '../../format';
import { applyEnvs, inlineTask, loadTaskFile, withLines, type TaskSource } from '../../task-file';
import { uploadTaskFiles } from '../../upload';
import { checkClusterName } from '../args';
import { connect } from '../context';
import { followRequest } from '../follow';
import { finish } from '../outcome';
import { CliExit, EXIT, note, print } from '../output';
import { confirm } from '../prompt';

export interface RunTaskOptions {
  cluster?: string;
  yes?: boolean;
  env: string[];
  envFile?: string;
  async?: boolean;
  detachRun?: boolean;
  idleMinutesToAutostop?: number;
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
  // Everything about the task is checked before the server is even contacted.
  const source = applyEnvs(taskSource(entrypoint), { envArgs: options.env, envFile: options.envFile, environment: process.env });
  const clusterName = options.cluster ?? defaultClusterName();
  checkClusterName(clusterName);
  const { client } = await connect();
  try {
    // Like `sky exec`, exec runs on a cluster the user already has without asking.
    if (operation === 'launch' && !options.yes) {
      const existing = (await client.clusters()).find((c) => c.name === clusterName);
      print(summary(source, clusterName, existing));
      // Where it would run, as the server's optimizer sees it; a task nothing can hold stops here.
      const plan = await client.plan(source.task, clusterName).catch((err: unknown) => {
        throw serverTaskIssues(err, source);
      });
      if (!plan.existingCluster) print(plan.table);
      if (!(await confirm('Proceed?'))) throw new CliExit(EXIT.error, 'Aborted; nothing was submitted.');
    }
    // A server on another machine cannot read this machine's paths: the files travel with the task.
    const task = await uploadTaskFiles(client, source.task, note);
    let requestId: string;
    try {
      requestId =
        operation === 'launch'
          ? await client.submit('launch', { task, clusterName, detachRun: options.detachRun, idleMinutesToAutostop: options.idleMinutesToAutostop })
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
    process.exitCode = finish(finished!);
  } finally {
    client.close();
  }
}

/** One argument that is a file (or looks like YAML) is a task file; otherwise the words are a command to run. */
function taskSource(entrypoint: string[]): TaskSource {
  if (entrypoint.length === 0) return { task: {} };
  const [first] = entrypoint;
  if (entrypoint.length === 1 && (/\.ya?ml$/i.test(first!) || existsSync(first!))) return loadTaskFile(first!);
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
  if (task.workdir) lines.push(`  Workdir: ${task.workdir}`);
  const envNames = Object.keys(task.envs ?? {});
  if (envNames.length > 0) lines.push(`  Envs: ${envNames.join(', ')}`);
  const secretNames = Object.keys(task.secrets ?? {});
  if (secretNames.length > 0) lines.push(`  Secrets: ${secretNames.join(', ')} (values not shown)`);
  if (task.run) lines.push(`  Run: ${firstLine(task.run)}`);
  if (existing) lines.push(`Cluster: ${clusterName} (existing, ${existing.status}, ${existing.infra}, ${existing.numNodes} node${existing.numNodes === 1 ? '' : 's'})`);
  else lines.push(`Cluster: ${clusterName} (new; it will be provisioned)`);
  return lines.join('\n');
}

function resources(task: Task): string {
  const r = task.resources ?? {};
  const parts = [r.cpus && `cpus=${r.cpus}`, r.memory && `memory=${r.memory}GiB`, r.accelerators && `accelerators=${r.accelerators}`].filter(Boolean);
  return parts.length > 0 ? parts.join(' ') : 'any';
}

function firstLine(text: string): string {
  const lines = text.trim().split('\n');
  return lines.length > 1 ? `${lines[0]} ... (${lines.length} lines)` : lines[0]!;
}

// The `slurm:` section of SKYDECK_HOME/config.yaml: how this server reaches a Slurm cluster. Present
// means enabled; every key is optional.
//
//   slurm:
//     slurm_conf: /etc/slurm/slurm.conf   # SLURM_CONF for sbatch/squeue/scancel/sinfo (default: Slurm's own)
//     shared_dir: /shared/skydeck         # seen at the same path by this server and every compute node
//     partitions: [debug, gpu]            # only these partitions (default: all)
//     account: research                   # sbatch --account
//     rest:                               # submit through slurmrestd instead of the commands
//       url: http://127.0.0.1:6820
//       jwt_file: /etc/skydeck/slurm.jwt  # read at every request, so a rotated token applies at once
//       user: skydeck                     # X-SLURM-USER-NAME (default: the user the server runs as)
//       api: v0.0.38                      # the OpenAPI plugin slurmrestd serves (-s openapi/v0.0.38)
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseDocument } from 'yaml';
import * as z from 'zod';

export const CONFIG_FILE = 'config.yaml';

export interface SlurmConfig {
  slurmConf?: string;
  /** Job scripts, workdirs and per-node output: must be visible to the server and the nodes. */
  sharedDir: string;
  partitions?: string[];
  account?: string;
  /** Present: jobs, job state, cancel and nodes go through slurmrestd; absent: through the commands. */
  rest?: SlurmRestConfig;
}

export interface SlurmRestConfig {
  url: string;
  jwtFile: string;
  user: string;
  api: string;
}

/** The OpenAPI versions whose answers the REST transport maps (tested against Slurm 22.05's slurmrestd). */
export const REST_APIS = ['v0.0.38'] as const;

const absolute = z.string().refine((p) => isAbsolute(p), 'expected an absolute path');
const restSchema = z.strictObject({
  url: z.string().refine((u) => URL.canParse(u) && /^https?:$/.test(new URL(u).protocol), 'expected an http:// or https:// URL such as http://127.0.0.1:6820'),
  jwt_file: absolute,
  user: z.string().regex(/^[A-Za-z0-9._-]+$/, 'a user name').optional(),
  api: z.enum(REST_APIS, { error: `supported: ${REST_APIS.join(', ')}` }).optional(),
});
const slurmSchema = z.strictObject({
  slurm_conf: absolute.optional(),
  shared_dir: absolute.optional(),
  partitions: z.array(z.string().regex(/^[A-Za-z0-9._-]+$/, 'a partition name')).min(1).optional(),
  account: z.string().min(1).optional(),
  rest: restSchema.optional(),
});

/** The `slurm` key of config.yaml, undefined when the file or the key is absent (Slurm not enabled). */
export function readSlurmSection(home: string): unknown {
  const file = join(home, CONFIG_FILE);
  if (!existsSync(file)) return undefined;
  const doc = parseDocument(readFileSync(file, 'utf8'), { prettyErrors: false });
  if (doc.errors.length > 0) return { invalid: `${file}: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}` };
  const value = doc.toJS({ maxAliasCount: 100 }) as Record<string, unknown> | null;
  return value && typeof value === 'object' && 'slurm' in value ? (value.slurm ?? {}) : undefined;
}

/** Validates the section; throws with `config.yaml: slurm.<key>: message` lines. */
export function parseSlurmConfig(section: unknown, home: string, dataDir: string, serverUser = os.userInfo().username): SlurmConfig {
  if (section && typeof section === 'object' && 'invalid' in section) throw new Error(String(section.invalid));
  const r = slurmSchema.safeParse(section);
  if (!r.success) {
    const file = join(home, CONFIG_FILE);
    throw new Error(r.error.issues.map((i) => `${file}: ${['slurm', ...i.path.map(String)].join('.')}: ${i.message}`).join('\n'));
  }
  const rest = r.data.rest && { url: r.data.rest.url.replace(/\/+$/, ''), jwtFile: r.data.rest.jwt_file, user: r.data.rest.user ?? serverUser, api: r.data.rest.api ?? REST_APIS[0] };
  return { slurmConf: r.data.slurm_conf, sharedDir: r.data.shared_dir ?? join(dataDir, 'slurm'), partitions: r.data.partitions, account: r.data.account, ...(rest ? { rest } : {}) };
}

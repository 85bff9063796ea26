// The infra backends of this server: one of every kind, each on when its configuration in SKYDECK_HOME
// turns it on (the local backend always). Whether a kind is on is asked at every use, so an
// ssh_node_pools.yaml or a `slurm:` section added while the server runs applies without a restart.
import { infraNotEnabledMessage } from '../../protocol/infra-refusal';
import { fail } from '../errors';
import { INFRA_KINDS, type InfraBackend, type InfraStatus } from './backend';
import type { JobUsers } from './local/job-users';
import { LocalBackend } from './local/local-backend';
import { SlurmBackend } from './slurm/slurm-backend';
import { SshBackend } from './ssh/ssh-backend';

export interface BackendContext {
  /** SKYDECK_HOME: where ssh_node_pools.yaml and config.yaml live. */
  home: string;
  /** The server's data dir: where backends keep their own state (sandboxes, job dirs). */
  dataDir: string;
  /** Why local jobs may not run right now, if so (see LocalBackend). */
  localRefusal?: () => string | undefined;
  /** Local jobs run under uids of their own (a team server with local infra). */
  jobUsers?: JobUsers;
}

export class InfraBackends {
  /** One backend of every kind, on or off. */
  constructor(readonly all: readonly InfraBackend[]) {}

  /** The backend serving an infra name (`ssh/lab` -> the SSH backend), on or off: existing clusters still need it. */
  of(infra: string): InfraBackend {
    const kind = infra.split('/')[0];
    const backend = this.all.find((b) => b.kind === kind);
    if (!backend) throw fail.infra_not_enabled(`unknown infra '${infra}'; SkyDeck runs on ${INFRA_KINDS.join(', ')}`);
    return backend;
  }

  /** The backends that are on now. */
  enabled(): InfraBackend[] {
    return this.all.filter((b) => b.configured().enabled);
  }

  /**
   * The backends a task naming `infra` (or none) may be placed on; throws when the kind it names is off,
   * saying how to turn it on. The one place that decides "infra not enabled".
   */
  eligible(infra: string | undefined): InfraBackend[] {
    if (infra === undefined) return this.enabled();
    const backend = this.all.find((b) => b.kind === infra.split('/')[0]);
    const state = backend?.configured() ?? { enabled: false, reason: `SkyDeck runs tasks on ${INFRA_KINDS.join(', ')}`, hint: 'name one of those in resources.infra' };
    if (!state.enabled) {
      throw fail.infra_not_enabled(infraNotEnabledMessage(infra, this.enabled().map((b) => b.kind), state.reason, state.hint));
    }
    return [backend!];
  }

  /** Every kind of infra, on or not, with why not and how to turn it on (what `skydeck check` prints). */
  async check(): Promise<InfraStatus[]> {
    const answers = await Promise.all(
      this.all.map(async (b): Promise<InfraStatus[]> => {
        const state = b.configured();
        if (!state.enabled) return [{ infra: b.kind, enabled: false, reason: state.reason, hint: state.hint }];
        return b.check();
      }),
    );
    return answers.flat();
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map((b) => b.close()));
  }
}

export function createBackends(ctx: BackendContext): InfraBackends {
  return new InfraBackends([new LocalBackend(ctx.dataDir, ctx.localRefusal, ctx.jobUsers), new SshBackend(ctx.home, ctx.dataDir), new SlurmBackend(ctx.home, ctx.dataDir)]);
}

// The infra inventory: what `skydeck check`, `skydeck gpus list`, the dashboard's Infra page and the
// editor's completions read from GET /api/infra. Every kind of infra, on or off, and for the ones that
// are on, their nodes as last seen: SSH pool hosts, Slurm partition nodes, the local machine.

/** An accelerator type and how many of it one node has (`A100:8`). */
export interface AcceleratorCount {
  name: string;
  count: number;
}

/** One node of an infra: a pool host, a Slurm node (in one partition), or the server's own machine. */
export interface InfraNode {
  /** The pool host's name, the Slurm node name, or the machine's host name. */
  name: string;
  /** Where it is reached (an SSH host's address, 127.0.0.1 for local); absent for Slurm nodes. */
  address?: string;
  cpus?: number;
  memoryGiB?: number;
  /** GB free where clusters live on it (local: the server's data dir; SSH: the login user's home). */
  diskFreeGB?: number;
  accelerators?: AcceleratorCount;
  /** Slurm's GRES as configured (`gpu:t4:2`), for Slurm nodes that have any. */
  gres?: string;
  /** Slurm's state (`idle`, `mix`, `alloc`, `down*`...); `up` or `unreachable` for other nodes. */
  state: string;
  /** Whether new work can start on it now. */
  usable: boolean;
  /** Why it could not be asked (an unreachable host). */
  error?: string;
  /** SkyDeck clusters on it: an SSH host serves one cluster; the local machine and Slurm nodes many. */
  clusters: string[];
}

export interface InfraStatus {
  /** `local`, `ssh/<pool>`, `slurm/<partition>`; just the kind (`ssh`, `slurm`) when it is off or broken. */
  infra: string;
  enabled: boolean;
  /** Why it is off, or a note on a partial state (2 of 3 hosts reachable). */
  reason?: string;
  /** For an infra that is off: what turns it on. */
  hint?: string;
  /** Its nodes, when it could be asked. */
  nodes?: InfraNode[];
}

/** GET /api/infra */
export interface InfraListResponse {
  infra: InfraStatus[];
}

/** One line of `skydeck gpus list`: an accelerator type on one infra. */
export interface AcceleratorOffer {
  name: string;
  infra: string;
  /** The counts a node of that infra offers (`[1, 8]`: some nodes have 1, some 8). */
  perNode: number[];
  /** Nodes that have it, and how many of those can take work now. */
  nodes: number;
  usableNodes: number;
  /** Accelerators on all those nodes together. */
  total: number;
}

/** Every accelerator type across the enabled infra, by name then infra (what `sky show-gpus` lists). */
export function acceleratorOffers(infra: readonly InfraStatus[]): AcceleratorOffer[] {
  const offers = new Map<string, AcceleratorOffer>();
  for (const status of infra) {
    if (!status.enabled) continue;
    for (const node of status.nodes ?? []) {
      const acc = node.accelerators;
      if (!acc || acc.count <= 0) continue;
      const key = `${acc.name}\n${status.infra}`;
      const offer = offers.get(key) ?? { name: acc.name, infra: status.infra, perNode: [], nodes: 0, usableNodes: 0, total: 0 };
      if (!offer.perNode.includes(acc.count)) offer.perNode = [...offer.perNode, acc.count].sort((a, b) => a - b);
      offer.nodes += 1;
      if (node.usable) offer.usableNodes += 1;
      offer.total += acc.count;
      offers.set(key, offer);
    }
  }
  return [...offers.values()].sort((a, b) => a.name.localeCompare(b.name) || a.infra.localeCompare(b.infra));
}

// Clusters and their jobs as the server reports them, kept up to date from the WebSocket feed.
import type { Cluster, Job } from '../../protocol/model';
import { Emitter } from '../../client/event';

/** `clusters` lists the clusters whose row or job children changed; `reshaped` means the list itself changed. */
export interface ClustersChange {
  reshaped: boolean;
  clusters: string[];
}

export class ClustersModel {
  private readonly byName = new Map<string, Cluster>();
  /** Jobs per cluster, present once they have been loaded (or an event named them). */
  private readonly jobsByCluster = new Map<string, Map<number, Job>>();
  private readonly changed = new Emitter<ClustersChange>();
  readonly onDidChange = this.changed.event;

  get(name: string): Cluster | undefined {
    return this.byName.get(name);
  }

  list(): Cluster[] {
    return [...this.byName.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  /** Replaces the list; `forgetJobs` drops loaded jobs too, so they are fetched again on expansion. */
  replaceAll(clusters: readonly Cluster[], options: { forgetJobs?: boolean } = {}): void {
    this.byName.clear();
    for (const c of clusters) this.byName.set(c.name, c);
    for (const name of [...this.jobsByCluster.keys()]) if (options.forgetJobs || !this.byName.has(name)) this.jobsByCluster.delete(name);
    this.changed.fire({ reshaped: true, clusters: [] });
  }

  upsert(cluster: Cluster): void {
    const known = this.byName.has(cluster.name);
    this.byName.set(cluster.name, cluster);
    this.changed.fire({ reshaped: !known, clusters: [cluster.name] });
  }

  remove(name: string): void {
    if (!this.byName.delete(name)) return;
    this.jobsByCluster.delete(name);
    this.changed.fire({ reshaped: true, clusters: [] });
  }

  /** Jobs of a cluster, newest first; undefined until they have been loaded. */
  jobs(cluster: string): Job[] | undefined {
    const jobs = this.jobsByCluster.get(cluster);
    return jobs && [...jobs.values()].sort((a, b) => b.jobId - a.jobId);
  }

  setJobs(cluster: string, jobs: readonly Job[]): void {
    this.jobsByCluster.set(cluster, new Map(jobs.map((j) => [j.jobId, j])));
    this.changed.fire({ reshaped: false, clusters: [cluster] });
  }

  upsertJob(job: Job): void {
    const jobs = this.jobsByCluster.get(job.cluster);
    // Not loaded yet: the first expansion fetches the full list, which will include this job.
    if (!jobs) return;
    jobs.set(job.jobId, job);
    this.changed.fire({ reshaped: false, clusters: [job.cluster] });
  }

  clear(): void {
    this.byName.clear();
    this.jobsByCluster.clear();
    this.changed.fire({ reshaped: true, clusters: [] });
  }

  dispose(): void {
    this.changed.dispose();
  }
}

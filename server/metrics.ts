// Prometheus metrics: requests by name and status, queue depth, request durations.
import { REQUEST_STATUSES, type ApiRequest } from '../protocol/model';

/** Seconds; the buckets span a status call to a long training launch. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 1800, 3600];

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly created = new Map<string, number>();
  private readonly finished = new Map<string, number>();
  private readonly durations = new Map<string, Histogram>();

  requestCreated(name: string): void {
    this.created.set(name, (this.created.get(name) ?? 0) + 1);
  }

  requestFinished(request: ApiRequest): void {
    const key = `${request.name}\u0000${request.status}`;
    this.finished.set(key, (this.finished.get(key) ?? 0) + 1);
    if (request.startedAt === undefined || request.finishedAt === undefined) return;
    const seconds = (request.finishedAt - request.startedAt) / 1000;
    let h = this.durations.get(request.name);
    if (!h) this.durations.set(request.name, (h = { counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    BUCKETS.forEach((b, i) => {
      if (seconds <= b) h.counts[i]!++;
    });
    h.sum += seconds;
    h.count++;
  }

  /** Renders the text exposition format; live counts are read from the caller at scrape time. */
  render(live: { requests: Pick<ApiRequest, 'name' | 'status'>[]; queueDepth: number; historySize: number; workers?: { limit: number; busy: number }; logFollowers?: number }): string {
    const out: string[] = [];
    out.push('# HELP skydeck_requests_created_total Requests submitted, by operation.', '# TYPE skydeck_requests_created_total counter');
    for (const [name, n] of this.created) out.push(`skydeck_requests_created_total{name="${name}"} ${n}`);
    out.push('# HELP skydeck_requests_finished_total Requests finished, by operation and final status.', '# TYPE skydeck_requests_finished_total counter');
    for (const [key, n] of this.finished) {
      const [name, status] = key.split('\u0000');
      out.push(`skydeck_requests_finished_total{name="${name}",status="${status}"} ${n}`);
    }
    out.push('# HELP skydeck_requests Requests not yet finished, by operation and status.', '# TYPE skydeck_requests gauge');
    const current = new Map<string, number>();
    for (const r of live.requests) current.set(`${r.name}\u0000${r.status}`, (current.get(`${r.name}\u0000${r.status}`) ?? 0) + 1);
    for (const [key, n] of current) {
      const [name, status] = key.split('\u0000');
      if (REQUEST_STATUSES.includes(status as never)) out.push(`skydeck_requests{name="${name}",status="${status}"} ${n}`);
    }
    out.push('# HELP skydeck_queue_depth Long requests waiting for a worker.', '# TYPE skydeck_queue_depth gauge', `skydeck_queue_depth ${live.queueDepth}`);
    if (live.workers) {
      out.push('# HELP skydeck_long_workers Workers for long requests (launch, exec, start).', '# TYPE skydeck_long_workers gauge', `skydeck_long_workers ${live.workers.limit}`);
      out.push('# HELP skydeck_long_workers_busy Workers running a long request now.', '# TYPE skydeck_long_workers_busy gauge', `skydeck_long_workers_busy ${live.workers.busy}`);
    }
    if (live.logFollowers !== undefined) out.push('# HELP skydeck_log_followers Request log streams open now (WebSocket and HTTP followers).', '# TYPE skydeck_log_followers gauge', `skydeck_log_followers ${live.logFollowers}`);
    out.push('# HELP skydeck_requests_stored Finished requests kept within the retention window.', '# TYPE skydeck_requests_stored gauge', `skydeck_requests_stored ${live.historySize}`);
    out.push('# HELP skydeck_request_duration_seconds Time from start to finish, by operation.', '# TYPE skydeck_request_duration_seconds histogram');
    for (const [name, h] of this.durations) {
      BUCKETS.forEach((b, i) => out.push(`skydeck_request_duration_seconds_bucket{name="${name}",le="${b}"} ${h.counts[i]}`));
      out.push(`skydeck_request_duration_seconds_bucket{name="${name}",le="+Inf"} ${h.count}`);
      out.push(`skydeck_request_duration_seconds_sum{name="${name}"} ${h.sum}`, `skydeck_request_duration_seconds_count{name="${name}"} ${h.count}`);
    }
    const mem = process.memoryUsage();
    out.push('# HELP process_resident_memory_bytes Resident memory of the server process.', '# TYPE process_resident_memory_bytes gauge', `process_resident_memory_bytes ${mem.rss}`);
    return out.join('\n') + '\n';
  }
}

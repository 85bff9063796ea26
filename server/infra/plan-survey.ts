// What a backend looks at once for all the resource candidates of one plan. The optimizer weighs a
// task's candidates (10 for a long any_of) at the same moment, and each would read the same free disk,
// listening ports and settings: the first candidate's look serves the others. A survey lives for one
// plan only, so the next plan, and a launch placing its cluster again under the cluster's lock, look
// afresh: nothing read here can be older than the plan that uses it.

export class PlanSurvey {
  private readonly looks = new Map<string, unknown>();

  /** What `read()` gives, read by the first candidate to ask for `what` (a rejection is shared too). */
  look<T>(what: string, read: () => T): T {
    if (!this.looks.has(what)) this.looks.set(what, read());
    return this.looks.get(what) as T;
  }
}

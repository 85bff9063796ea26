// What the Request details page keeps in VS Code's webview state: the log comes again from the server when
// VS Code reloads the page after its tab was hidden, but the reader's search and place in the log do not.
// Read back through `requestDetailsState`, which keeps only what fits (an older or corrupt state is ignored).

export interface RequestDetailsState {
  search: string;
  following: boolean;
  /** The absolute line at the top of the view, when the reader had scrolled up (not following). */
  topLine?: number;
}

const MAX_SEARCH = 1_000;

export function requestDetailsState(saved: unknown): RequestDetailsState {
  const state: RequestDetailsState = { search: '', following: true };
  if (typeof saved !== 'object' || saved === null || Array.isArray(saved)) return state;
  const { search, following, topLine } = saved as Record<string, unknown>;
  if (typeof search === 'string' && search.length <= MAX_SEARCH) state.search = search;
  if (following === false) state.following = false;
  if (!state.following && typeof topLine === 'number' && Number.isSafeInteger(topLine) && topLine >= 0) state.topLine = topLine;
  return state;
}

/** What the app renders of a remote video track: its largest visible element, in device pixels. */
export interface RenderState {
  visible: boolean;
  width: number;
  height: number;
}

interface ElementState {
  width: number;
  height: number;
  intersecting: boolean;
}

/**
 * Watches the elements a remote video track is attached to (size, on-screen, page visibility) and
 * reports the largest visible rendering, debounced. Like LiveKit's adaptiveStream: the room turns it
 * into preferred simulcast layers, and pauses video nobody can see.
 */
export class AdaptiveStream {
  readonly #onChange: (state: RenderState) => void;
  readonly #debounceMs: number;
  readonly #elements = new Map<HTMLElement, ElementState>();
  readonly #resize: ResizeObserver | undefined;
  readonly #intersection: IntersectionObserver | undefined;
  readonly #onVisibility = (): void => this.#schedule();
  #timer: ReturnType<typeof setTimeout> | undefined;
  #last: RenderState | undefined;

  constructor(onChange: (state: RenderState) => void, debounceMs = 250) {
    this.#onChange = onChange;
    this.#debounceMs = debounceMs;
    if (typeof ResizeObserver !== 'undefined') {
      this.#resize = new ResizeObserver((entries) => {
        for (const entry of entries) {
          const state = this.#elements.get(entry.target as HTMLElement);
          if (!state) continue;
          state.width = entry.contentRect.width;
          state.height = entry.contentRect.height;
        }
        this.#schedule();
      });
    }
    if (typeof IntersectionObserver !== 'undefined') {
      this.#intersection = new IntersectionObserver((entries) => {
        for (const entry of entries) {
          const state = this.#elements.get(entry.target as HTMLElement);
          if (state) state.intersecting = entry.isIntersecting;
        }
        this.#schedule();
      });
    }
    document.addEventListener('visibilitychange', this.#onVisibility);
  }

  observe(element: HTMLElement): void {
    if (this.#elements.has(element)) return;
    const rect = element.getBoundingClientRect();
    this.#elements.set(element, { width: rect.width, height: rect.height, intersecting: true });
    this.#resize?.observe(element);
    this.#intersection?.observe(element);
    this.#schedule();
  }

  unobserve(element: HTMLElement): void {
    if (!this.#elements.delete(element)) return;
    this.#resize?.unobserve(element);
    this.#intersection?.unobserve(element);
    this.#schedule();
  }

  /** The current rendering, computed now. */
  measure(): RenderState {
    const ratio = typeof devicePixelRatio === 'number' ? devicePixelRatio : 1;
    let width = 0;
    let height = 0;
    if (document.visibilityState !== 'hidden') {
      for (const [element, state] of this.#elements) {
        if (!element.isConnected || element.hidden || !state.intersecting || state.width === 0 || state.height === 0) continue;
        width = Math.max(width, state.width * ratio);
        height = Math.max(height, state.height * ratio);
      }
    }
    return { visible: width > 0 && height > 0, width: Math.round(width), height: Math.round(height) };
  }

  #schedule(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      const state = this.measure();
      const last = this.#last;
      if (last && last.visible === state.visible && last.width === state.width && last.height === state.height) return;
      this.#last = state;
      this.#onChange(state);
    }, this.#debounceMs);
  }

  close(): void {
    clearTimeout(this.#timer);
    this.#resize?.disconnect();
    this.#intersection?.disconnect();
    this.#elements.clear();
    document.removeEventListener('visibilitychange', this.#onVisibility);
  }
}

/**
 * The simulcast layer worth receiving for a rendering: the camera sends 1/4, 1/2 and full scale of
 * 720p (180p, 360p, 720p), and the lowest layer at least as tall as the element is chosen.
 */
export function spatialLayerFor(state: RenderState): number {
  const height = Math.max(state.height, (state.width * 9) / 16);
  if (height <= 180) return 0;
  if (height <= 360) return 1;
  return 2;
}

/**
 * The API instances a media node talks to (API_INTERNAL_URL, comma-separated): the same one until
 * a request to it fails, then the next, round the list. Media events and recordings keep flowing
 * while any instance is up, with no load balancer between the media tier and the API.
 */
export class ApiEndpoints {
  readonly #urls: readonly string[];
  #index = 0;

  constructor(urls: string | readonly string[]) {
    const list = (typeof urls === 'string' ? [urls] : urls).map((url) => url.replace(/\/+$/, ''));
    if (list.length === 0) throw new Error('ApiEndpoints needs at least one URL');
    this.#urls = list;
  }

  /** How many instances there are. */
  get count(): number {
    return this.#urls.length;
  }

  /** The base URL to use now. */
  get current(): string {
    return this.#urls[this.#index]!;
  }

  /** A request to `url` failed: later requests go to the next instance (unless another failure moved on already). */
  failed(url: string): void {
    if (this.#urls[this.#index] === url) this.#index = (this.#index + 1) % this.#urls.length;
  }
}

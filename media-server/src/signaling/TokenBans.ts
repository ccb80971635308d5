/** Room tokens live at most a day: a ban older than that protects nothing any more. */
const MAX_TOKEN_LIFETIME_MS = 86_400_000;

/**
 * Keys (an identity, or a room and an identity) whose room tokens issued up to a moment are
 * refused. A token's `iat` has whole seconds: one issued in the same second as the ban counts as
 * before it, so a fresh token is one minted at least a second later.
 */
export class TokenBans {
  readonly #bannedAt = new Map<string, number>();

  ban(key: string, at = Date.now()): void {
    for (const [known, when] of this.#bannedAt) if (when < at - MAX_TOKEN_LIFETIME_MS) this.#bannedAt.delete(known);
    this.#bannedAt.set(key, at);
  }

  /** Whether a token issued at `iatSeconds` for `key` is refused. */
  refuses(key: string, iatSeconds: number): boolean {
    const at = this.#bannedAt.get(key);
    return at !== undefined && iatSeconds * 1000 <= at;
  }
}

// Audible cues made with Web Audio (no sound files): the incoming-call ring and a one-off chime.

function tones(ctx: AudioContext, frequency: number): void {
  for (const offset of [0, 0.35]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = frequency;
    gain.gain.setValueAtTime(0.08, ctx.currentTime + offset);
    gain.gain.exponentialRampToValueAtTime(0.0001, ctx.currentTime + offset + 0.3);
    osc.connect(gain).connect(ctx.destination);
    osc.start(ctx.currentTime + offset);
    osc.stop(ctx.currentTime + offset + 0.3);
  }
}

function audioContext(): AudioContext | undefined {
  try {
    return new AudioContext();
  } catch {
    return undefined;
  }
}

/** Two short tones every two seconds; returns a stop function. */
export function ringtone(): () => void {
  const ctx = audioContext();
  if (!ctx) return () => undefined;
  tones(ctx, 660);
  const timer = setInterval(() => tones(ctx, 660), 2000);
  return () => {
    clearInterval(timer);
    void ctx.close();
  };
}

/** Two soft higher tones once (someone is waiting to be let in). */
export function chime(): void {
  const ctx = audioContext();
  if (!ctx) return;
  tones(ctx, 880);
  setTimeout(() => void ctx.close(), 1000);
}

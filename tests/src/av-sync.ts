// A/V sync of recorded media: a page's camera and microphone are replaced by a canvas and a Web Audio
// graph driven by one clock (the AudioContext's), which flash half the picture white and beep
// (1 kHz) at the same instant every PERIOD_S; a recorded file is then analysed with FFmpeg (the
// flashed half's mean luminance per frame, the audio's level per 5 ms) and each flash is paired
// with the nearest beep.
import { execFileSync } from 'node:child_process';
import type { TestPage } from './browser.js';

export const PERIOD_S = 1.5;
const FLASH_S = 0.2;
const BEEP_HZ = 1000;

export interface SyncSourceOptions {
  /**
   * Flash and beep together (false: no flash and a silent microphone, so the flashes and beeps of a
   * recording are all the other side's: a flash of this side would be paired with a beep of the
   * other's, on another clock).
   */
  signal: boolean;
}

/**
 * Replaces navigator.mediaDevices.getUserMedia in the page (already loaded; the app is a single-page
 * app, so it stays) by the synchronized source: a 320×240 canvas with a moving pattern whose left
 * half flashes white, and a microphone that beeps at the flash (or a steady picture and a silent microphone).
 */
export function installSyncSource(page: TestPage, options: SyncSourceOptions): Promise<void> {
  return page.evaluate(
    ({ beep, period, flash, beepHz }) => {
      // `beep` is options.signal: this side flashes and beeps, or does neither.
      const audio = new AudioContext();
      void audio.resume();
      const destination = audio.createMediaStreamDestination();
      // A steady hum at -60 dBFS, far below the beep: the track carries audio all the time (a
      // destination with nothing connected renders nothing, and nothing is sent).
      const hum = audio.createOscillator();
      const humGain = audio.createGain();
      hum.frequency.value = 200;
      humGain.gain.value = 0.001;
      hum.connect(humGain).connect(destination);
      hum.start();
      const canvas = document.createElement('canvas');
      canvas.width = 320;
      canvas.height = 240;
      const g = canvas.getContext('2d')!;
      const video = canvas.captureStream(30);
      // Beeps scheduled ahead on the audio clock; the canvas reads the same clock on every draw.
      const t0 = Math.ceil(audio.currentTime) + 1;
      let scheduled = 0;
      const schedule = (): void => {
        while (beep && t0 + scheduled * period < audio.currentTime + 3) {
          const at = t0 + scheduled * period;
          const osc = audio.createOscillator();
          const gain = audio.createGain();
          osc.frequency.value = beepHz;
          gain.gain.value = 0.5;
          osc.connect(gain).connect(destination);
          osc.start(at);
          osc.stop(at + flash);
          scheduled++;
        }
      };
      const draw = (): void => {
        schedule();
        const now = audio.currentTime;
        const phase = now < t0 ? -1 : (now - t0) % period;
        g.fillStyle = '#202020';
        g.fillRect(0, 0, 320, 240);
        // A moving pattern (bars sliding right) so that frames differ.
        const shift = Math.floor(now * 60) % 80;
        g.fillStyle = '#5a7fa0';
        for (let x = -80 + shift; x < 320; x += 80) g.fillRect(x, 0, 30, 240);
        // And a counter, so that no two frames a while apart are alike.
        g.fillStyle = '#e0e0e0';
        g.font = '48px sans-serif';
        g.fillText(String(Math.floor(now * 10)), 170, 140);
        if (beep && phase >= 0 && phase < flash) {
          g.fillStyle = '#ffffff';
          g.fillRect(0, 0, 160, 240);
        }
      };
      setInterval(draw, 1000 / 60);
      draw();
      const tracks = { video: video.getVideoTracks()[0]!, audio: destination.stream.getAudioTracks()[0]! };
      navigator.mediaDevices.getUserMedia = (constraints?: MediaStreamConstraints) =>
        Promise.resolve(new MediaStream([...(constraints?.video ? [tracks.video.clone()] : []), ...(constraints?.audio ? [tracks.audio.clone()] : [])]));
    },
    { beep: options.signal, period: PERIOD_S, flash: FLASH_S, beepHz: BEEP_HZ },
  );
}

/** A flash in a recorded video stream. */
export interface FlashOnset {
  /** When the first white frame is shown, s in the file's timeline. */
  at: number;
  /**
   * The gap since the frame before it, ms: the flash began somewhere in it, so a picture measured
   * late may be late by this much less (an encoder short of CPU sends fewer frames and widens it).
   */
  frameGapMs: number;
}

/** Where the left half of video stream `stream` turns white. */
export function flashOnsets(file: string, stream: number): FlashOnset[] {
  const out = execFileSync(
    'ffmpeg',
    [
      '-v',
      'error',
      '-i',
      file,
      '-map',
      `0:v:${stream}`,
      '-vf',
      'crop=iw/2:ih:0:0,signalstats,metadata=print:key=lavfi.signalstats.YAVG:file=-',
      '-f',
      'null',
      '-',
    ],
    { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
  );
  // Filters see the input's times less its start (the earliest stream's); the audio below is read in absolute times.
  const start =
    Number(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'format=start_time', '-of', 'csv=p=0', file], { encoding: 'utf8' }).trim()) || 0;
  const onsets: FlashOnset[] = [];
  let time = 0;
  let previous = 0;
  let bright = true; // no onset at the very first frame: the flash may have begun before it
  for (const line of out.split('\n')) {
    const pts = /pts_time:([\d.]+)/.exec(line);
    if (pts) {
      previous = time;
      time = Number(pts[1]);
    }
    const y = /YAVG=([\d.]+)/.exec(line);
    if (!y) continue;
    const value = Number(y[1]);
    if (!bright && value > 180) onsets.push({ at: start + time, frameGapMs: Math.round((time - previous) * 1000) });
    if (value > 180) bright = true;
    else if (value < 110) bright = false;
  }
  return onsets;
}

/**
 * Times (s, in the file's timeline) where the (first) audio stream's beeps begin: the 1 kHz tone's
 * amplitude in a 5 ms window rises past half the beep's, after 300 ms without it. The tone is
 * measured on its own (Goertzel, one bin on 1 kHz) and must carry most of the window's energy, so a
 * click or pop (broadband) is no beep and cannot hide one that follows it.
 */
export function beepOnsets(file: string): number[] {
  const rate = 16_000;
  const pcm = execFileSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:a:0', '-ac', '1', '-ar', String(rate), '-f', 's16le', '-'], {
    maxBuffer: 256 * 1024 * 1024,
  });
  // The decoded audio starts at the stream's start time.
  const start =
    Number(
      execFileSync('ffprobe', ['-v', 'error', '-select_streams', 'a:0', '-show_entries', 'stream=start_time', '-of', 'csv=p=0', file], {
        encoding: 'utf8',
      }).trim(),
    ) || 0;
  // 80 samples: exactly five periods of 1 kHz, so the tone falls on one Goertzel bin.
  const window = rate / 200;
  const coefficient = 2 * Math.cos((2 * Math.PI * BEEP_HZ) / rate);
  const onsets: number[] = [];
  let quietWindows = Infinity;
  for (let w = 0; (w + 1) * window * 2 <= pcm.length; w++) {
    let [s1, s2, energy] = [0, 0, 0];
    for (let i = 0; i < window; i++) {
      const x = pcm.readInt16LE((w * window + i) * 2) / 32768;
      energy += x * x;
      [s1, s2] = [x + coefficient * s1 - s2, s1];
    }
    const tonePower = s1 * s1 + s2 * s2 - coefficient * s1 * s2;
    // A sine of amplitude A puts (A·N/2)² in its bin, and A²·N/2 in the window's energy.
    const amplitude = (2 * Math.sqrt(tonePower)) / window;
    const toneShare = energy > 0 ? (amplitude * amplitude * window) / 2 / energy : 0;
    // The beep's amplitude is 0.5.
    if (amplitude > 0.25 && toneShare > 0.5) {
      if (quietWindows >= 60) onsets.push(start + (w * window) / rate);
      quietWindows = 0;
    } else if (amplitude < 0.08) quietWindows++;
  }
  return onsets;
}

/**
 * Each flash's offset from the nearest beep, ms (positive: the picture comes late); undefined for a
 * flash with no beep within half a period, whose beep is not in the file: the recording paused or
 * stopped between the two (the tracks do not stop on the same frame). Offsets are only known modulo
 * the period anyway: a flash farther than half a period from every beep says nothing about sync.
 */
export function flashToBeepOffsets(flashes: readonly FlashOnset[], beeps: readonly number[]): (number | undefined)[] {
  return flashes.map(({ at: flash }) => {
    if (beeps.length === 0) return undefined;
    const nearest = beeps.reduce((best, beep) => (Math.abs(beep - flash) < Math.abs(best - flash) ? beep : best));
    return Math.abs(flash - nearest) <= PERIOD_S / 2 ? Math.round((flash - nearest) * 1000) : undefined;
  });
}

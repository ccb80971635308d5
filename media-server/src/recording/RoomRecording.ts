import fs from 'node:fs/promises';
import path from 'node:path';
import type { types } from 'mediasoup';
import type { RecordingCommand, RecordingGap, RecordingManifest, RecordingStatus } from '@telemed/sdk/protocol';
import { MediaServerError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Peer, ProducerAppData } from '../Peer.js';
import type { Room } from '../Room.js';
import { muxArguments, runFfmpeg, segmentStart, type MuxInput } from './mux.js';
import { TrackRecorder } from './TrackRecorder.js';

export interface RoomRecordingOptions {
  room: Room;
  recordingId: string;
  /** Folder for this recording's files (created). */
  dir: string;
  ffmpegPath: string;
  ffprobePath: string;
  logger: Logger;
  restartDelayMs?: number;
}

/** A finished recording: the muxed file and what it holds. */
export interface FinishedRecording {
  file: string;
  manifest: RecordingManifest;
}

/**
 * The recording of one room: a TrackRecorder per producer of a consenting participant. It records
 * only while everyone in the room is among the consenting identities: `apply()` refuses to record
 * otherwise (CONSENT_REQUIRED), and a participant who joins without consent pauses it at once,
 * before the API has heard of the join.
 */
export class RoomRecording {
  readonly id: string;
  readonly room: Room;
  readonly startedAt = Date.now();
  readonly #options: RoomRecordingOptions;
  readonly #recorders = new Map<string, TrackRecorder>();
  readonly #gaps: RecordingGap[] = [];
  #identities = new Set<string>();
  #state: 'recording' | 'paused' | 'stopped' = 'paused';
  #unlisten: () => void;

  constructor(options: RoomRecordingOptions) {
    this.#options = options;
    this.id = options.recordingId;
    this.room = options.room;
    const onJoin = (peer: Peer): void => {
      if (this.#identities.has(peer.identity) || this.#state !== 'recording') return;
      this.#options.logger.info({ recordingId: this.id }, 'a participant without consent joined: recording paused');
      void this.#setState('paused');
    };
    const onTrack = (peer: Peer, producer: types.Producer<ProducerAppData>): void => {
      if (this.#identities.has(peer.identity)) void this.#record(peer, producer);
    };
    this.room.observer.on('peerJoined', onJoin);
    this.room.observer.on('trackPublished', onTrack);
    this.#unlisten = () => {
      this.room.observer.off('peerJoined', onJoin);
      this.room.observer.off('trackPublished', onTrack);
    };
  }

  get state(): 'recording' | 'paused' | 'stopped' {
    return this.#state;
  }

  get recorders(): ReadonlyMap<string, TrackRecorder> {
    return this.#recorders;
  }

  status(): RecordingStatus {
    return {
      recordingId: this.id,
      state: this.#state,
      tracks: this.#recorders.size,
      restarts: [...this.#recorders.values()].reduce((n, r) => n + r.restarts, 0),
    };
  }

  /** Sets the consenting identities and the wanted state; CONSENT_REQUIRED when someone else is in the room. */
  async apply(command: RecordingCommand): Promise<RecordingStatus> {
    if (this.#state === 'stopped') throw MediaServerError.invalidState('this recording has stopped');
    const identities = new Set(command.identities);
    if (command.state === 'recording') {
      const missing = this.room.joinedPeers().filter((p) => !identities.has(p.identity)).length;
      if (missing > 0) throw new MediaServerError('CONSENT_REQUIRED', `${missing} participant(s) in the room have not consented to the recording`);
    }
    this.#identities = identities;
    await fs.mkdir(this.#options.dir, { recursive: true, mode: 0o700 });
    // Tracks of participants whose consent is gone stop being recorded.
    for (const recorder of this.#recorders.values()) if (!identities.has(recorder.identity)) await recorder.pause();
    const starting: Promise<void>[] = [];
    for (const peer of this.room.joinedPeers()) {
      if (!identities.has(peer.identity)) continue;
      for (const producer of peer.producers.values()) starting.push(this.#record(peer, producer));
    }
    await Promise.all(starting);
    await this.#setState(command.state);
    return this.status();
  }

  async #setState(state: 'recording' | 'paused'): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = state;
    await Promise.all([...this.#recorders.values()].map((r) => (state === 'recording' && this.#identities.has(r.identity) ? r.resume() : r.pause())));
  }

  async #record(peer: Peer, producer: types.Producer<ProducerAppData>): Promise<void> {
    if (this.#recorders.has(producer.id) || this.#state === 'stopped' || producer.closed) return;
    const entry = this.room.routers.get(producer.appData.workerIndex ?? -1) ?? [...this.room.routers.values()][0];
    if (!entry) return;
    const recorder = new TrackRecorder({
      router: entry.router,
      producer,
      identity: peer.identity,
      dir: this.#options.dir,
      recordingStartedAt: this.startedAt,
      ffmpegPath: this.#options.ffmpegPath,
      logger: this.#options.logger,
      ...(this.#options.restartDelayMs === undefined ? {} : { restartDelayMs: this.#options.restartDelayMs }),
    });
    this.#recorders.set(producer.id, recorder);
    recorder.on('gap', ({ fromMs, toMs }) => this.#gaps.push({ trackId: recorder.trackId, fromMs, toMs }));
    try {
      if (this.#state !== 'recording') await recorder.pause();
      await recorder.start();
    } catch (error) {
      this.#options.logger.error({ err: error, recordingId: this.id, trackId: producer.id }, 'could not start a track recorder');
      this.#recorders.delete(producer.id);
      await recorder.close();
    }
  }

  /** Stops every recorder and muxes their files into one; undefined when nothing was recorded. Idempotent. */
  async stop(): Promise<FinishedRecording | undefined> {
    if (this.#state === 'stopped') return undefined;
    this.#state = 'stopped';
    this.#unlisten();
    const stoppedAt = Date.now();
    await Promise.all([...this.#recorders.values()].map((r) => r.close()));
    const inputs: MuxInput[] = [];
    for (const recorder of this.#recorders.values()) {
      for (const segment of recorder.segments) {
        const size = (await fs.stat(segment.file).catch(() => undefined))?.size ?? 0;
        const startS = size > 0 ? await segmentStart(this.#options.ffprobePath, segment.file) : undefined;
        if (startS !== undefined) {
          // FFmpeg re-bases each recorder's file to start near 0 (recorders run without -copyts), so
          // startS is 0 or a codec delay of a few ms; a segment whose first frames the copy had to drop
          // is not told apart from one on time (docs/recording.md, A/V sync).
          if (startS > 0.05)
            this.#options.logger.warn(
              { recordingId: this.id, trackId: recorder.trackId, kind: recorder.kind, leadMs: Math.round(startS * 1000) },
              'a track segment lost its first frames: its file starts after its first packet',
            );
          inputs.push({ file: segment.file, kind: recorder.kind, offsetMs: segment.offsetMs + startS * 1000 });
        } else {
          // Nothing usable from this process (it died before writing its header): the span is a gap.
          this.#options.logger.warn(
            { recordingId: this.id, trackId: recorder.trackId, kind: recorder.kind, bytes: size, stderr: segment.stderr },
            'an unreadable track segment is left out',
          );
          this.#gaps.push({ trackId: recorder.trackId, fromMs: segment.offsetMs, toMs: segment.endMs ?? stoppedAt - this.startedAt });
        }
      }
    }
    if (inputs.length === 0) return undefined;
    const file = path.join(this.#options.dir, 'call.mkv');
    const { args, transcoded } = muxArguments(inputs, file);
    await runFfmpeg(this.#options.ffmpegPath, args);
    return {
      file,
      manifest: {
        recordingId: this.id,
        roomId: this.room.id,
        startedAt: new Date(this.startedAt).toISOString(),
        stoppedAt: new Date(stoppedAt).toISOString(),
        durationMs: stoppedAt - this.startedAt,
        tracks: [...this.#recorders.values()].map((r) => ({
          trackId: r.trackId,
          identity: r.identity,
          kind: r.kind,
          codec: r.codec,
          segments: r.segments.length,
        })),
        gaps: this.#gaps,
        transcoded,
      },
    };
  }
}

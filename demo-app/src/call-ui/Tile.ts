import type { Track } from '@telemed/sdk';
import { html } from 'htm/preact';
import type { ComponentChildren } from 'preact';
import { useEffect, useRef } from 'preact/hooks';
import { Icon } from '../icons.js';

export interface TileProps {
  id: string;
  name: string;
  video: Track | undefined;
  audio: Track | undefined;
  local: boolean;
  micMuted: boolean;
  speaking: boolean;
  /** Connection quality from the SDK (excellent/good/poor/lost). */
  quality?: string;
  screen?: boolean;
  /** Doctor's controls over this participant, when allowed. */
  actions?: ComponentChildren;
}

/** One participant's (or one screen share's) video with its name and mute/speaking state. */
export function Tile({ id, name, video, audio, local, micMuted, speaking, quality, screen = false, actions }: TileProps) {
  const videoRef = useRef<HTMLVideoElement>(null);
  const audioRef = useRef<HTMLAudioElement>(null);

  useEffect(() => {
    const element = videoRef.current;
    if (!video || !element) return;
    video.attach(element);
    return () => void video.detach(element);
  }, [video]);
  useEffect(() => {
    const element = audioRef.current;
    if (!audio || !element || local) return;
    audio.attach(element);
    return () => void audio.detach(element);
  }, [audio, local]);

  const classes = ['tile', local && 'local', speaking && 'speaking', screen && 'screen', !video && 'no-video'].filter(Boolean).join(' ');
  return html`
    <figure class=${classes} data-participant=${id} data-name=${name} data-speaking=${speaking ? 'true' : 'false'}>
      ${
        video
          ? html`<video ref=${videoRef} autoplay playsinline muted aria-label=${`${name}${screen ? ' screen' : ''} video`}></video>`
          : html`<div class="avatar" aria-hidden="true">${name.slice(0, 1).toUpperCase()}</div>`
      }
      ${!local && audio && html`<audio ref=${audioRef} autoplay></audio>`}
      <figcaption>
        ${micMuted && html`<span class="muted-icon" role="img" aria-label="Microphone muted"><${Icon} name="micOff" size=${16} /></span>`}
        <span>${screen ? `${name}'s screen` : local ? `${name} (you)` : name}</span>
        ${quality && html`<span class=${`quality quality-${quality}`} role="img" aria-label=${`Connection ${quality}`} title=${`Connection ${quality}`} data-quality=${quality}></span>`}
        ${actions}
      </figcaption>
    </figure>`;
}

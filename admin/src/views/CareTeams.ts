// Who sees whom: direct care relationships (a doctor and a patient) and care teams (every doctor
// of a team sees every patient of it).
import { html } from 'htm/preact';
import { useMemo, useState } from 'preact/hooks';
import type { AdminUser, CareRelationship, CareTeam } from '@telemed/sdk';
import type { AdminBackend } from '../backend.js';
import { DataTable, type Column } from './DataTable.js';
import { useAction } from './useAction.js';
import { usePolling } from './usePolling.js';

interface CareData {
  users: AdminUser[];
  links: CareRelationship[];
  teams: CareTeam[];
}

export function CareTeams({ backend }: { backend: AdminBackend }) {
  const polled = usePolling(
    async (): Promise<CareData> => {
      const [users, links, teams] = await Promise.all([backend.accounts(), backend.careRelationships(), backend.careTeams()]);
      return { users, links, teams };
    },
    15_000,
    [backend],
  );
  const action = useAction();
  const act = (work: () => Promise<unknown>): void => void action.run(work).then((ok) => ok && polled.refresh());
  const users = polled.data?.users ?? [];
  const doctors = useMemo(() => users.filter((u) => u.role === 'doctor' && u.status !== 'disabled'), [users]);
  const patients = useMemo(() => users.filter((u) => u.role === 'patient' && u.status !== 'disabled'), [users]);
  const [doctorId, setDoctorId] = useState('');
  const [patientId, setPatientId] = useState('');

  const linkColumns: Column<CareRelationship>[] = [
    { key: 'doctor', label: 'Doctor', render: (l) => l.doctorName, sortValue: (l) => l.doctorName },
    { key: 'patient', label: 'Patient', render: (l) => l.patientName, sortValue: (l) => l.patientName },
    {
      key: 'actions',
      label: 'Actions',
      render: (l) => html`<button type="button" class="danger" onClick=${() => act(() => backend.unlink(l.doctorId, l.patientId))}
        aria-label=${`Remove ${l.doctorName} from ${l.patientName}'s care`}>Remove</button>`,
    },
  ];

  return html`
    <main class="dashboard" data-testid="care">
      ${(polled.error || action.error) && html`<p class="error" role="alert">${action.error ?? polled.error}</p>`}
      <section class="tab-panel" aria-labelledby="links-title">
        <h2 id="links-title">Care relationships</h2>
        <p class="hint">A doctor sees, calls and messages the patients in their care.</p>
        <form class="filters" id="new-link" onSubmit=${(e: Event) => {
          e.preventDefault();
          if (doctorId && patientId) act(() => backend.link(doctorId, patientId));
        }}>
          <label>Doctor <${UserSelect} id="link-doctor" users=${doctors} value=${doctorId} onChange=${setDoctorId} /></label>
          <label>Patient <${UserSelect} id="link-patient" users=${patients} value=${patientId} onChange=${setPatientId} /></label>
          <button type="submit" class="primary" disabled=${action.busy || !doctorId || !patientId}>Link</button>
        </form>
        <${DataTable} id="care-links" caption="Care relationships" rows=${polled.data?.links ?? []} columns=${linkColumns} rowKey=${(l: CareRelationship) => `${l.doctorId}|${l.patientId}`}
          empty="No direct care relationship." initialSort=${{ key: 'doctor', dir: 'asc' }} />
      </section>
      <section class="tab-panel" aria-labelledby="teams-title">
        <h2 id="teams-title">Care teams</h2>
        <p class="hint">Every doctor of a team sees every patient of it.</p>
        <form class="filters" id="new-team" onSubmit=${(e: Event) => {
          e.preventDefault();
          const form = e.currentTarget as HTMLFormElement;
          const name = String(new FormData(form).get('name')).trim();
          if (name)
            act(async () => {
              await backend.createTeam(name);
              form.reset();
            });
        }}>
          <label>Team name <input name="name" id="team-name" required maxlength="100" /></label>
          <button type="submit" class="primary" disabled=${action.busy}>Create team</button>
        </form>
        <div class="teams">
          ${(polled.data?.teams ?? []).map((team) => html`<${TeamCard} key=${team.id} team=${team} candidates=${[...doctors, ...patients]} act=${act} backend=${backend} />`)}
          ${polled.data && polled.data.teams.length === 0 && html`<p class="hint">No care team yet.</p>`}
        </div>
      </section>
    </main>`;
}

function UserSelect({ id, users, value, onChange }: { id: string; users: AdminUser[]; value: string; onChange: (id: string) => void }) {
  return html`<select id=${id} value=${value} onChange=${(e: Event) => onChange((e.target as HTMLSelectElement).value)}>
    <option value="">Choose…</option>
    ${users.map((u) => html`<option key=${u.id} value=${u.id}>${u.displayName} (${u.email})</option>`)}
  </select>`;
}

function TeamCard({
  team,
  candidates,
  act,
  backend,
}: {
  team: CareTeam;
  candidates: AdminUser[];
  act: (work: () => Promise<unknown>) => void;
  backend: AdminBackend;
}) {
  const [adding, setAdding] = useState('');
  const members = new Set([...team.doctors, ...team.patients].map((m) => m.id));
  const list = (title: string, people: CareTeam['doctors']) => html`
    <h4>${title}</h4>
    <ul class="members">${
      people.length === 0
        ? html`<li class="hint">None</li>`
        : people.map(
            (p) => html`<li key=${p.id}>${p.displayName}
      <button type="button" class="ghost" onClick=${() => act(() => backend.removeMember(team.id, p.id))} aria-label=${`Remove ${p.displayName} from ${team.name}`}>✕</button></li>`,
          )
    }</ul>`;
  return html`<article class="card team" data-team=${team.name}>
    <div class="toolbar-row"><h3>${team.name}</h3>
      <button type="button" class="danger" onClick=${() => act(() => backend.deleteTeam(team.id))} aria-label=${`Delete the team ${team.name}`}>Delete</button></div>
    ${list('Doctors', team.doctors)}
    ${list('Patients', team.patients)}
    <form class="filters" onSubmit=${(e: Event) => {
      e.preventDefault();
      if (adding) act(() => backend.addMember(team.id, adding));
      setAdding('');
    }}>
      <label>Add a member <${UserSelect} id=${`add-${team.id}`} users=${candidates.filter((u) => !members.has(u.id))} value=${adding} onChange=${setAdding} /></label>
      <button type="submit" disabled=${!adding}>Add</button>
    </form>
  </article>`;
}

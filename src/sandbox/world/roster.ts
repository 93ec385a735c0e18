import type { Scenario } from '../scenario/schema.js';
import type { Calendar } from './calendar.js';
import { randomFor } from './rng.js';
import { TEAMS } from './tables.js';

const FIRST = [
  'Jalen',
  'Marcus',
  'Tyrese',
  'Luka',
  'Devin',
  'Jaylen',
  'Anthony',
  'Cade',
  'Scottie',
  'Evan',
  'Derrick',
  'Kyle',
  'Paolo',
  'Franz',
  'Victor',
  'Alperen',
  'Trae',
  'Desmond',
  'Mikal',
  'Bennedict',
  'Josh',
  'Zion',
  'Brandon',
  'Keegan',
  'Amen',
  'Dyson',
  'Walker',
  'Chet',
  'Jabari',
  'Onyeka',
];
const LAST = [
  'Brooks',
  'Carter',
  'Daniels',
  'Ellis',
  'Fox',
  'Green',
  'Harris',
  'Irving',
  'Johnson',
  'Knox',
  'Lopez',
  'Mitchell',
  'Nance',
  'Okafor',
  'Porter',
  'Quinn',
  'Reid',
  'Sasser',
  'Thompson',
  'Usher',
  'Vassell',
  'Walker',
  'Young',
  'Zeller',
  'Banton',
  'Collier',
  'Duren',
  'Eason',
  'Flagg',
  'Gafford',
];
const POSITIONS = ['G', 'G', 'F', 'F', 'C', 'G-F', 'F-C'];

export interface Player {
  readonly lookup: string;
  readonly name: string;
  readonly team: string;
  readonly position: string;
}

export interface Game {
  readonly gameId: string;
  readonly date: string;
  readonly home: string;
  readonly away: string;
  readonly startMs: number;
}

export function buildRoster(scenario: Scenario, seed: number): Player[] {
  const random = randomFor(seed, 'roster');
  const seen = new Set<string>();
  const players: Player[] = [];
  for (const team of TEAMS.slice(0, scenario.roster.teams)) {
    for (let slot = 0; slot < scenario.roster.players_per_team; slot++) {
      const first = FIRST[Math.floor(random() * FIRST.length)] as string;
      const last = LAST[Math.floor(random() * LAST.length)] as string;
      let lookup = `${first}${last}`.toLowerCase();
      // player_lookup is a key: disambiguate namesakes the way the seed platform does, with a digit.
      for (let suffix = 2; seen.has(lookup); suffix++) lookup = `${first}${last}${suffix}`.toLowerCase();
      seen.add(lookup);
      players.push({
        lookup,
        name: `${first} ${last}`,
        team,
        position: POSITIONS[slot % POSITIONS.length] as string,
      });
    }
  }
  return players;
}

/** The games on `day`: weekday rhythm, none on no-game dates, teams paired by a seeded shuffle. */
export function gamesOn(scenario: Scenario, seed: number, calendar: Calendar, day: number): Game[] {
  const date = calendar.dateOf(day);
  if (scenario.calendar.no_game_dates.includes(date)) return [];
  const teams: string[] = [...TEAMS.slice(0, scenario.roster.teams)];
  const count = Math.min(
    scenario.calendar.games_by_weekday[calendar.weekday(day)],
    Math.floor(teams.length / 2),
  );
  const random = randomFor(seed, 'schedule', day);
  for (let index = teams.length - 1; index > 0; index--) {
    const other = Math.floor(random() * (index + 1));
    [teams[index], teams[other]] = [teams[other] as string, teams[index] as string];
  }
  const games: Game[] = [];
  for (let index = 0; index < count; index++) {
    const away = teams[2 * index] as string;
    const home = teams[2 * index + 1] as string;
    // Tip-offs 7-10:30 pm Eastern, i.e. the next UTC day from 00:00.
    const startMs = calendar.at(day + 1, 0, 30 * (index % 8));
    games.push({ gameId: `${date.replaceAll('-', '')}_${away}_${home}`, date, home, away, startMs });
  }
  return games;
}

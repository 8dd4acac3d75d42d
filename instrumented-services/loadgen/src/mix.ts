import { randomUUID } from 'node:crypto';
import type { Zipf } from './zipf.js';

export type Scenario = 'browse' | 'search' | 'order';

export interface Mix {
  browse: number;
  search: number;
  order: number;
}

/** Parses `browse=70,search=20,order=10` (weights, any positive numbers). */
export function parseMix(text: string): Mix {
  const mix: Mix = { browse: 0, search: 0, order: 0 };
  for (const part of text.split(',')) {
    const [name, weight] = part.split('=').map((s) => s.trim());
    if (name !== 'browse' && name !== 'search' && name !== 'order') {
      throw new Error(`--mix: unknown scenario "${name ?? ''}" (browse, search, order)`);
    }
    const value = Number(weight);
    if (!Number.isFinite(value) || value < 0) throw new Error(`--mix: weight of ${name} must be a number >= 0`);
    mix[name] = value;
  }
  if (mix.browse + mix.search + mix.order <= 0) throw new Error('--mix: at least one weight must be positive');
  return mix;
}

export function pickScenario(mix: Mix, random: () => number): Scenario {
  const total = mix.browse + mix.search + mix.order;
  const r = random() * total;
  if (r < mix.browse) return 'browse';
  if (r < mix.browse + mix.search) return 'search';
  return 'order';
}

export interface PlannedRequest {
  scenario: Scenario;
  method: 'GET' | 'POST';
  path: string;
  body?: string;
  headers: Record<string, string>;
}

const SEARCH_TERMS = ['lamp', 'kettle', 'chair', 'headphones', 'backpack', 'bamboo', 'steel', 'wireless', 'smart', 'eco'];

/** The request a scenario sends: product reads by Zipf popularity, searches, and orders of popular products. */
export function planRequest(scenario: Scenario, zipf: Zipf, random: () => number): PlannedRequest {
  switch (scenario) {
    case 'browse':
      return { scenario, method: 'GET', path: `/api/products/${zipf.next()}`, headers: {} };
    case 'search': {
      const term = SEARCH_TERMS[Math.floor(random() * SEARCH_TERMS.length)] ?? 'lamp';
      const page = 1 + Math.floor(random() * 3);
      return { scenario, method: 'GET', path: `/api/products?q=${term}&page=${page}&limit=20`, headers: {} };
    }
    case 'order': {
      const items = new Map<number, number>();
      const count = 1 + Math.floor(random() * 3);
      while (items.size < count) items.set(zipf.next(), 1 + Math.floor(random() * 2));
      return {
        scenario,
        method: 'POST',
        path: '/api/orders',
        headers: { 'content-type': 'application/json', 'idempotency-key': randomUUID() },
        body: JSON.stringify({
          customerEmail: `shopper${Math.floor(random() * 1000)}@example.com`,
          items: [...items].map(([productId, quantity]) => ({ productId, quantity })),
        }),
      };
    }
  }
}

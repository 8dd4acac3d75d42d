import { HttpProblem, problems } from '@lookout/http-kit';
import { Agent, request } from 'undici';

export interface CatalogProduct {
  id: number;
  name: string;
  priceCents: number;
  currency: string;
  stock: number;
}

/** Reads products from the catalog over HTTP (undici; trace context is propagated by its instrumentation). */
export class CatalogClient {
  private readonly agent: Agent;

  constructor(
    private readonly baseUrl: string,
    private readonly timeoutMs: number,
  ) {
    this.agent = new Agent({ headersTimeout: timeoutMs, bodyTimeout: timeoutMs, connectTimeout: timeoutMs, connections: 32 });
  }

  /** The product, or null when the catalog says it does not exist; a 503 problem when the catalog cannot answer. */
  async getProduct(id: number): Promise<CatalogProduct | null> {
    let res;
    try {
      res = await request(`${this.baseUrl}/products/${id}`, { dispatcher: this.agent, signal: AbortSignal.timeout(this.timeoutMs) });
    } catch (err) {
      throw problems.dependencyUnavailable('catalog', 1, err);
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return null;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      throw problems.dependencyUnavailable('catalog', 1, new Error(`catalog answered ${res.statusCode}`));
    }
    return (await res.body.json()) as CatalogProduct;
  }

  close(): Promise<void> {
    return this.agent.close();
  }
}

export function unknownProducts(ids: number[]): HttpProblem {
  return new HttpProblem({
    status: 422,
    type: 'unknown-product',
    title: 'Unknown product',
    detail: `No such product: ${ids.join(', ')}.`,
    extensions: { productIds: ids },
  });
}

import { DEADLINE_MARGIN_MS, deadlineExceeded, HttpProblem, problems, remainingMs, REQUEST_TIMEOUT_HEADER } from '@lookout/http-kit';
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

  /**
   * The product, or null when the catalog says it does not exist; a 503 problem when the catalog cannot answer.
   * Inside a request the call gets what the request has left minus a margin (to answer our own caller in time),
   * at most CATALOG_TIMEOUT_MS, and the catalog is told so (`request-timeout-ms`) to stop when we do; a request
   * with no time left does not call, and one whose time ran out during the call answers with the deadline problem.
   */
  async getProduct(id: number): Promise<CatalogProduct | null> {
    const left = remainingMs();
    const budgetMs = left === undefined ? this.timeoutMs : Math.min(this.timeoutMs, Math.floor(left - DEADLINE_MARGIN_MS));
    if (budgetMs <= 0) throw deadlineExceeded('catalog');
    const outOfTime = (cause: unknown) => {
      const now = remainingMs();
      return now !== undefined && now <= DEADLINE_MARGIN_MS ? deadlineExceeded('catalog', cause) : undefined;
    };
    let res;
    try {
      res = await request(`${this.baseUrl}/products/${id}`, {
        dispatcher: this.agent,
        headers: { [REQUEST_TIMEOUT_HEADER]: String(budgetMs) },
        signal: AbortSignal.timeout(budgetMs),
      });
    } catch (err) {
      throw outOfTime(err) ?? problems.dependencyUnavailable('catalog', 1, err);
    }
    if (res.statusCode === 404) {
      await res.body.dump();
      return null;
    }
    if (res.statusCode !== 200) {
      await res.body.dump();
      const cause = new Error(`catalog answered ${res.statusCode}`);
      throw outOfTime(cause) ?? problems.dependencyUnavailable('catalog', 1, cause);
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

import { timeDbOperation, withClient } from '@lookout/clients';
import { withinDeadline } from '@lookout/http-kit';
import type pg from 'pg';

export interface Product {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  priceCents: number;
  currency: string;
  stock: number;
  createdAt: string;
  updatedAt: string;
}

export type ProductInput = Omit<Product, 'id' | 'createdAt' | 'updatedAt'>;

export interface SearchQuery {
  q: string | undefined;
  category: string | undefined;
  page: number;
  limit: number;
}

export interface SearchPage {
  items: Product[];
  page: number;
  limit: number;
  hasMore: boolean;
}

interface ProductRow {
  id: number;
  sku: string;
  name: string;
  description: string;
  category: string;
  price_cents: number;
  currency: string;
  stock: number;
  created_at: Date;
  updated_at: Date;
}

const COLUMNS = 'id, sku, name, description, category, price_cents, currency, stock, created_at, updated_at';

function toProduct(row: ProductRow): Product {
  return {
    id: row.id,
    sku: row.sku,
    name: row.name,
    description: row.description,
    category: row.category,
    priceCents: row.price_cents,
    currency: row.currency,
    stock: row.stock,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** Escapes LIKE wildcards so that a search for `50%` means the characters, not a pattern. */
export function likePattern(term: string): string {
  return `%${term.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

/** Products in Postgres. Every statement is parameterised and timed under a stable operation name. */
export class ProductsRepository {
  constructor(
    private readonly pool: pg.Pool,
    /** Runs before every statement: the `slow_queries` fault hooks in here. */
    private readonly beforeQuery: () => Promise<void> = () => Promise.resolve(),
  ) {}

  private query<R extends pg.QueryResultRow>(operation: string, sql: string, params: unknown[]): Promise<pg.QueryResult<R>> {
    return timeDbOperation(operation, async () => {
      // The hook runs on a checked-out connection, so that a slow statement holds it as a real one would.
      return withClient(this.pool, async (client) => {
        // Stands in for a slow statement, so it ends at the request's deadline as a real one would (query_timeout).
        await withinDeadline(this.beforeQuery(), 'postgres-query');
        return client.query<R>(sql, params);
      });
    });
  }

  async getById(id: number): Promise<Product | null> {
    const result = await this.query<ProductRow>('products.get_by_id', `SELECT ${COLUMNS} FROM products WHERE id = $1`, [id]);
    const row = result.rows[0];
    return row === undefined ? null : toProduct(row);
  }

  /**
   * One page of products ordered by id. Fetches `limit + 1` rows to tell whether another page exists without a
   * COUNT(*) over the whole match, which costs as much as the search itself.
   */
  async search(query: SearchQuery): Promise<SearchPage> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (query.q !== undefined) {
      params.push(likePattern(query.q));
      where.push(`name ILIKE $${params.length}`);
    }
    if (query.category !== undefined) {
      params.push(query.category);
      where.push(`category = $${params.length}`);
    }
    params.push(query.limit + 1, (query.page - 1) * query.limit);
    const sql = `SELECT ${COLUMNS} FROM products ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
                 ORDER BY id LIMIT $${params.length - 1} OFFSET $${params.length}`;
    const result = await this.query<ProductRow>('products.search', sql, params);
    const rows = result.rows.map(toProduct);
    return { items: rows.slice(0, query.limit), page: query.page, limit: query.limit, hasMore: rows.length > query.limit };
  }

  async create(input: ProductInput): Promise<Product> {
    const result = await this.query<ProductRow>(
      'products.insert',
      `INSERT INTO products (sku, name, description, category, price_cents, currency, stock)
       VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${COLUMNS}`,
      [input.sku, input.name, input.description, input.category, input.priceCents, input.currency, input.stock],
    );
    return toProduct(result.rows[0] as ProductRow);
  }

  /** Replaces a product's fields; null when there is no such product. */
  async replace(id: number, input: ProductInput): Promise<Product | null> {
    const result = await this.query<ProductRow>(
      'products.update',
      `UPDATE products
          SET sku = $2, name = $3, description = $4, category = $5, price_cents = $6, currency = $7, stock = $8,
              updated_at = now()
        WHERE id = $1
        RETURNING ${COLUMNS}`,
      [id, input.sku, input.name, input.description, input.category, input.priceCents, input.currency, input.stock],
    );
    const row = result.rows[0];
    return row === undefined ? null : toProduct(row);
  }
}

import type { AiUpstreamStandIn } from './ai-upstream';
import type { TestApp } from './test-app';

/** The seeded `custom` provider: no default_base_url, no platform key. */
export const CUSTOM_PROVIDER_ID = '01938000-0000-7000-8000-000000000007';

export interface StandInModel {
  model_name: string;
  max_tokens: number;
  input_price_per_1k?: number;
  output_price_per_1k?: number;
  /** Created, then toggled off. */
  inactive?: boolean;
}

/**
 * Points the seeded `custom` provider at the stand-in upstream with this
 * platform key, and adds these models of it: the AI tests' common catalog.
 * Throws (failing the suite's setup) when the app refuses any of it.
 */
export async function serveCustomModels(app: TestApp, admin: string, standIn: AiUpstreamStandIn, platformKey: string, models: StandInModel[]): Promise<void> {
  const provider = await app.put(`/providers/${CUSTOM_PROVIDER_ID}`, { default_base_url: `${standIn.url}/v1`, api_key: platformKey }, { token: admin });
  if (provider.status !== 200) throw new Error(`provider setup failed: ${provider.status} ${JSON.stringify(provider.body)}`);
  for (const { inactive, ...model } of models) {
    const created = await app.post(
      '/models',
      { input_price_per_1k: 0, output_price_per_1k: 0, ...model, display_name: model.model_name, provider: 'custom' },
      { token: admin },
    );
    if (created.status !== 201) throw new Error(`model setup failed: ${created.status} ${JSON.stringify(created.body)}`);
    if (inactive) await app.post(`/models/${created.body.id}/toggle`, undefined, { token: admin });
  }
}

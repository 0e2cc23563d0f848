import { enhance } from '../registry.ts';

/** Served by the app (client/charts/, Observable Plot); loaded only on pages that have a chart. */
const CHARTS_URL = '/assets/charts.js';

/**
 * `<figure data-enhance="chart">` holding `<script type="application/json" data-chart-data>` and an empty
 * `[data-chart-target]`: loads the charts bundle and draws the chart there. Without JavaScript the figure keeps its
 * caption and the page's tables hold every number; if drawing fails the caption says so.
 */
enhance('chart', (figure) => {
  const data = figure.querySelector<HTMLScriptElement>('script[data-chart-data]');
  const target = figure.querySelector<HTMLElement>('[data-chart-target]');
  const fallback = figure.querySelector<HTMLElement>('[data-chart-fallback]');
  if (!data || !target) return;
  void (async () => {
    try {
      const charts = (await import(/* dynamic: served apart from the bundle */ CHARTS_URL)) as typeof import('../charts/index.ts');
      charts.renderChart(target, JSON.parse(data.textContent ?? 'null'));
      fallback?.remove();
    } catch (error) {
      if (fallback) fallback.textContent = `(The chart could not be drawn: ${(error as Error).message}. Every number is in the table below.)`;
    }
  })();
});

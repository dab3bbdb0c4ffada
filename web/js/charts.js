// Chart.js for the screens that draw charts (loaded only when one is shown), the colours
// from the design tokens and the defaults every chart shares.
let chartModule = null;

export function cssVar(name, fallback) {
  const v = getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  return v || fallback;
}

export async function loadChart() {
  if (!chartModule) {
    chartModule = await import('../vendor/chart.js');
    chartModule.Chart.register(...chartModule.registerables);
  }
  const { Chart } = chartModule;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.font.size = 14;
  Chart.defaults.color = cssVar('--color-neutral-solid-gray-900', '#1a1a1a');
  return Chart;
}

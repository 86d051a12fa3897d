/**
 * The live chart of the selected symbol: TradingView's lightweight-charts (bundled into app.js, so
 * nothing is loaded from anywhere else), fed from the {@link SymbolBars} the dashboard keeps per
 * symbol. The chart only draws: switching the symbol or the bar size hands it another series, and
 * on every frame it takes what changed since the last one.
 */
import {
  CandlestickSeries,
  ColorType,
  createChart,
  HistogramSeries,
  type IChartApi,
  type ISeriesApi,
  LineStyle,
  MismatchDirection,
  type UTCTimestamp,
} from 'lightweight-charts';
import type { Bar, CandleSeries, SymbolBars } from './candles';
import { formatPrice } from './model';

const UP = '#2ecc71';
const DOWN = '#ff6b5e';
const UP_VOLUME = 'rgba(46, 204, 113, 0.35)';
const DOWN_VOLUME = 'rgba(255, 107, 94, 0.35)';

/**
 * lightweight-charts draws times as UTC; bars are kept in UTC and shifted by the browser's offset
 * only here, so the axis reads local time like every other clock on the page.
 */
const localOffsetS = (utcSeconds: number): number => -new Date(utcSeconds * 1000).getTimezoneOffset() * 60;
const chartTime = (bar: Bar): UTCTimestamp => (bar.time + localOffsetS(bar.time)) as UTCTimestamp;

const candle = (bar: Bar) => ({ time: chartTime(bar), open: bar.open, high: bar.high, low: bar.low, close: bar.close });
const volume = (bar: Bar) => ({ time: chartTime(bar), value: bar.volume, color: bar.close >= bar.open ? UP_VOLUME : DOWN_VOLUME });

/** The chart panel's canvas: one candlestick series with its last-price line, and volume below. */
export class ChartView {
  private readonly chart: IChartApi;
  private readonly candles: ISeriesApi<'Candlestick'>;
  private readonly volumes: ISeriesApi<'Histogram'>;
  /** What the chart shows now, to tell an append from a switch. */
  private shown: { bars: SymbolBars; series: CandleSeries; version: number; rewrites: number; lastTime: number } | undefined;

  constructor(private readonly container: HTMLElement) {
    const style = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
    this.chart = createChart(container, {
      autoSize: true,
      layout: {
        background: { type: ColorType.Solid, color: color('--panel', '#161d27') },
        textColor: color('--muted', '#8594a8'),
        fontFamily: color('--font', 'system-ui, sans-serif'),
        // The logo injects a <style> element, which the page's Content-Security-Policy blocks; the
        // page's footer carries the attribution and link the library's licence asks for instead.
        attributionLogo: false,
      },
      grid: { vertLines: { color: 'rgba(36, 48, 64, 0.6)' }, horzLines: { color: 'rgba(36, 48, 64, 0.6)' } },
      rightPriceScale: { borderColor: color('--panel-edge', '#243040') },
      timeScale: { borderColor: color('--panel-edge', '#243040'), timeVisible: true, secondsVisible: true, rightOffset: 3, barSpacing: 10 },
      localization: { priceFormatter: (price: number) => formatPrice(price) },
      crosshair: { horzLine: { labelBackgroundColor: '#213247' }, vertLine: { labelBackgroundColor: '#213247' } },
    });
    this.candles = this.chart.addSeries(CandlestickSeries, {
      upColor: UP,
      downColor: DOWN,
      wickUpColor: UP,
      wickDownColor: DOWN,
      borderVisible: false,
      priceLineVisible: true,
      priceLineStyle: LineStyle.Dashed,
      lastValueVisible: true,
    });
    this.volumes = this.chart.addSeries(HistogramSeries, {
      priceFormat: { type: 'volume' },
      priceScaleId: 'volume',
      lastValueVisible: false,
      priceLineVisible: false,
    });
    this.chart.priceScale('volume').applyOptions({ scaleMargins: { top: 0.82, bottom: 0 } });
    this.candles.priceScale().applyOptions({ scaleMargins: { top: 0.08, bottom: 0.2 } });
  }

  /**
   * Shows `size`-second bars of `bars` (nothing when `undefined`): the whole series after a switch
   * or a late tick that changed an earlier bar, else only the bars since the last render.
   */
  render(bars: SymbolBars | undefined, size: number): void {
    const series = bars?.series.get(size);
    if (!bars || !series) {
      if (this.shown) {
        this.candles.setData([]);
        this.volumes.setData([]);
        this.shown = undefined;
        this.describe(undefined);
      }
      return;
    }
    const shown = this.shown;
    if (shown && shown.series === series && shown.version === bars.version) return;
    if (!shown || shown.series !== series || shown.rewrites !== bars.rewrites) {
      this.candles.setData(series.bars.map(candle));
      this.volumes.setData(series.hasVolume ? series.bars.map(volume) : []);
      if (!shown || shown.series !== series) this.chart.timeScale().scrollToRealTime();
    } else {
      for (const bar of series.bars) {
        if (bar.time < shown.lastTime) continue;
        this.candles.update(candle(bar));
        if (series.hasVolume) this.volumes.update(volume(bar));
      }
    }
    this.shown = { bars, series, version: bars.version, rewrites: bars.rewrites, lastTime: series.last?.time ?? -Infinity };
    this.describe(series);
  }

  /**
   * Writes what the chart draws onto its element, for readers that cannot see a canvas (assistive
   * tools, the browser test): bar count, the last close as read back from the chart, and whether
   * its last-price line is on. (`series.data()` would copy every bar on every frame.)
   */
  private describe(series: CandleSeries | undefined): void {
    const count = series?.bars.length ?? 0;
    const last = count > 0 ? this.candles.dataByIndex(count - 1, MismatchDirection.NearestLeft) : null;
    const close = last && 'close' in last && typeof last.close === 'number' ? last.close : undefined;
    const el = this.container;
    el.dataset['bars'] = String(count);
    el.dataset['last'] = close === undefined ? '' : String(close);
    el.dataset['priceLine'] = this.candles.options().priceLineVisible && close !== undefined ? 'on' : 'off';
    el.dataset['volume'] = series?.hasVolume ? 'on' : 'off';
    el.setAttribute('aria-label', close === undefined ? 'No bars yet' : `${count} bars, last ${formatPrice(close)}`);
  }
}

/**
 * Coalesces render requests into one call per animation frame: ticks only mark what changed and
 * ask for a frame, so the DOM is written at most once per frame however fast ticks arrive (and not
 * at all while the tab is hidden, when browsers stop animation frames).
 */
export class FrameBatcher {
  private pending = false;

  /**
   * @param render writes the DOM; gets `Date.now()` of the frame.
   * @param requestFrame `requestAnimationFrame`, or a stand-in in tests.
   */
  constructor(
    private readonly render: (now: number) => void,
    private readonly requestFrame: (callback: () => void) => unknown = (cb) => requestAnimationFrame(cb),
  ) {}

  /** Asks for a render in the next frame; further requests before it add nothing. */
  request(): void {
    if (this.pending) return;
    this.pending = true;
    this.requestFrame(this.run);
  }

  private readonly run = (): void => {
    this.pending = false;
    this.render(Date.now());
  };
}

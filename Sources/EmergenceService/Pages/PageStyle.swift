/// The pages' one stylesheet, inline so a page is one request and works offline, and allowed by the
/// pages' Content-Security-Policy by its SHA-256 (no other inline style or any script may run). Colours keep
/// text at a contrast of at least 7:1 on its background (WCAG AAA): #1b1b1b and #0b4f8a on white,
/// and status badges with dark text on light fills.
enum PageStyle {
    static let css = """
    :root { color-scheme: light; }
    body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
           color: #1b1b1b; background: #ffffff; margin: 0 auto; max-width: 72rem; padding: 1.5rem; }
    h1 { font-size: 1.6rem; margin: 0 0 .25rem; }
    h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 1px solid #d0d0d0; padding-bottom: .25rem; }
    a { color: #0b4f8a; }
    a:focus { outline: 3px solid #1b1b1b; outline-offset: 2px; }
    nav { margin-bottom: 1rem; }
    table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
    th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #d0d0d0; vertical-align: top; }
    th { background: #f2f2f2; }
    td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
    .muted { color: #4a4a4a; }
    .prediction { font-size: 1.25rem; background: #eef5fb; border-left: 6px solid #0b4f8a; padding: .75rem 1rem; margin: 1rem 0; }
    .advice { background: #fff4e0; border-left: 6px solid #8a4b00; padding: .75rem 1rem; margin: 1rem 0; }
    .badge { display: inline-block; padding: 0 .5rem; border-radius: .75rem; font-size: .9rem; border: 1px solid #6b6b6b; background: #f2f2f2; color: #1b1b1b; }
    .badge.ok, .badge.succeeded { background: #e3f4e1; border-color: #1e6b1a; color: #0f3d0c; }
    .badge.failed, .badge.timed_out, .badge.cancelled, .badge.no_signal, .badge.not_identified, .badge.insufficient_data { background: #fde8e8; border-color: #9b1c1c; color: #6b0f0f; }
    .badge.queued, .badge.running, .badge.already_emerged { background: #fff4e0; border-color: #8a4b00; color: #5c3200; }
    .plots { display: flex; flex-wrap: wrap; gap: 1rem; }
    figure { margin: 0; flex: 1 1 28rem; }
    figure img { width: 100%; height: auto; border: 1px solid #d0d0d0; background: #ffffff; }
    figcaption { font-size: .9rem; color: #4a4a4a; }
    code { font-family: ui-monospace, "DejaVu Sans Mono", monospace; font-size: .9em; }
    """

    /// The `<style>` element; its text is exactly `css`, which `contentSecurityPolicy` hashes.
    static let element = "<style>" + css + "</style>"

    /// The pages' policy: nothing loads but same-origin images (the plots) and this stylesheet.
    static let contentSecurityPolicy =
        "default-src 'none'; img-src 'self'; style-src 'sha256-\(SHA256.base64(SHA256.digest(Array(css.utf8))))'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

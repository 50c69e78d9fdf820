/* Touchline tag (docs/tag.md): pageviews, SPA navigations, outbound links, file downloads,
   goals, identify and consent, sent to the collector in Plausible's event format plus a visitor id.
   Plain ES5, no dependencies, configured by data- attributes on its own <script> tag.
   This is the source; touchline.min.js (what the collector serves) is built from it with
   `make tag` and a test keeps the two in sync. */
(function (w, d) {
  var script = d.currentScript;
  if (!script || (w.touchline && w.touchline.visitorId)) return;
  var loc = w.location;
  var nav = w.navigator;
  function attr(name) { return script.getAttribute('data-' + name); }
  function flag(name) { var v = attr(name); return v !== null && v !== 'false'; }
  function listen(target, type, handler) { target.addEventListener(type, handler); }
  var domain = attr('domain') || loc.hostname.replace(/^www\./, '');
  var api = attr('api') || new URL(script.src).origin + '/api/event';
  var hashMode = flag('hash');
  var cookieless = flag('cookieless');
  var lifetime = Math.round((+attr('visitor-days') || 400) * 864e5);
  var fileTypes = (attr('file-types') || 'pdf,xlsx,docx,txt,rtf,csv,exe,key,pps,ppt,pptx,7z,pkg,rar,gz,zip,avi,mov,mp4,mpeg,wmv,midi,mp3,wav,wma,dmg').split(',');
  var VID = 'touchline_vid';
  var UID = 'touchline_uid';
  var CONSENT = 'touchline_consent';
  // The site's consent categories that stand for analytics (docs/consent.md).
  var analytics = (attr('consent-analytics') || 'analytics').toLowerCase().split(',');
  var visitor, lastPage;
  var choice = JSON.parse(load(CONSENT) || 'null');

  function load(key) { try { return localStorage.getItem(key); } catch (e) {} }
  function save(key, value) {
    try { value ? localStorage.setItem(key, value) : localStorage.removeItem(key); } catch (e) {}
  }
  function cookie() {
    var found = d.cookie.match('(?:^|; )' + VID + '=([^;]*)');
    return found && found[1];
  }
  function valid(id) { return /^[\w-]{16,64}$/.test(id) && id; }
  function randomId() {
    var bytes = w.crypto.getRandomValues(new Uint8Array(16));
    return btoa(String.fromCharCode.apply(null, bytes)).replace(/\+/g, '-').replace(/\//g, '_').slice(0, 22);
  }

  // The visitor id lives in a first-party cookie (which the site's own server can read) and in
  // localStorage (which survives a cleared cookie). Both are renewed on every page: the
  // lifetime is rolling. The cookie goes on the widest domain the browser accepts (example.com
  // for shop.example.com; never a public suffix) so every subdomain shares it.
  function visitorId() {
    if (cookieless || refused()) return null;
    if (!visitor) {
      var stored = (load(VID) || '').split('|');
      remember(valid(cookie()) || (+stored[1] > Date.now() && valid(stored[0])) || randomId(), lifetime);
    }
    return visitor;
  }
  // Writes (or, with '' and 0, removes) the visitor id cookie and its localStorage copy.
  function remember(value, age) {
    var base = VID + '=' + (visitor = value) + ';path=/;SameSite=Lax;max-age=' + age / 1e3 +
      (loc.protocol === 'https:' ? ';Secure' : '');
    var labels = loc.hostname.split('.');
    for (var i = labels.length - 2; i >= 0 && (cookie() || '') !== value; i--) {
      d.cookie = base + ';domain=' + labels.slice(i).join('.');
    }
    if ((cookie() || '') !== value) d.cookie = base;
    save(VID, value && value + '|' + (Date.now() + lifetime));
  }

  // Analytics refused in the visitor's choice (touchline('consent', {...}), kept in localStorage
  // and sent with every hit): no visitor id is kept; the collector counts with the daily hash.
  function refused() {
    for (var key in choice) if (choice[key] === false && analytics.indexOf(key.toLowerCase()) >= 0) return 1;
  }
  function consent(preferences) {
    save(CONSENT, JSON.stringify((choice = preferences || {})));
    if (refused()) remember('', 0);
    send('consent', { interactive: false });
  }

  function ignored() {
    if (/^localhost$|^127(\.\d+){3}$|^\[::1?\]$/.test(loc.hostname) || loc.protocol === 'file:') {
      if (!flag('track-localhost')) return 'localhost';
    }
    if ((nav.webdriver || w._phantom || w.__nightmare || w.Cypress) && !flag('allow-automation')) {
      return 'automated browser';
    }
    if (load('touchline_ignore') === 'true' || load('plausible_ignore') === 'true') return 'opted out';
  }

  function send(name, options) {
    var o = options || {};
    var callback = o.callback;
    var why = ignored();
    if (why) {
      console.warn('Touchline ignored ' + name + ': ' + why);
      return callback && callback();
    }
    var body = { n: name, u: o.url || loc.href, d: domain, r: d.referrer || null, w: w.innerWidth };
    if (o.props) body.p = o.props;
    if (o.revenue) body.$ = o.revenue;
    if (o.interactive === false) body.i = false;
    if (hashMode) body.h = 1;
    if (visitorId()) body.vid = visitor;
    if (load(UID)) body.uid = load(UID);
    if (o.emailSha256) body.eh = o.emailSha256;
    if (choice) body.c = choice;
    var data = JSON.stringify(body);
    // sendBeacon outlives the page (a click that navigates away); fetch when a callback wants
    // the status (keepalive, so it too survives unload). A string body is sent as text/plain,
    // which needs no CORS preflight.
    if (callback || !nav.sendBeacon || !nav.sendBeacon(api, data)) {
      fetch(api, { method: 'POST', body: data, keepalive: true }).then(
        function (response) { callback && callback({ status: response.status }); },
        function (error) { callback && callback({ error: error }); }
      );
    }
  }

  function pageview(navigation) {
    var page = loc.pathname + loc.search + (hashMode ? loc.hash : '');
    if (navigation === true && page === lastPage) return;
    lastPage = page;
    send('pageview');
  }

  function identify(who) {
    who = who || {};
    if (who.userId) save(UID, '' + who.userId);
    send('identify', { emailSha256: who.emailSha256, interactive: false, callback: who.callback });
  }

  function declaredGoal(element) {
    var props = {};
    for (var i = 0, a; (a = element.attributes[i]); i++) {
      var key = /^data-touchline-prop-(.+)/.exec(a.name);
      if (key) props[key[1]] = a.value;
    }
    send(element.getAttribute('data-touchline-goal'), { props: props });
  }

  // Goals declared with data-touchline-goal, links to other sites, links to files; middle
  // clicks count too. Event names and props are Plausible's, so goals carry over.
  function click(event) {
    var target = event.target;
    if ((event.type === 'auxclick' && event.button !== 1) || !target.closest) return;
    var goal = target.closest('[data-touchline-goal]');
    var link = target.closest('a[href]');
    if (goal && goal.tagName !== 'FORM') declaredGoal(goal);
    if (!link || !/^https?:$/.test(link.protocol)) return;
    var file = link.href.split(/[?#]/)[0];
    if (link.host !== loc.host) {
      if (attr('outbound-links') !== 'false') send('Outbound Link: Click', { props: { url: link.href } });
    } else if (attr('file-downloads') !== 'false' && fileTypes.indexOf(file.split('.').pop().toLowerCase()) >= 0) {
      send('File Download', { props: { url: file } });
    }
  }

  var touchline = function (name, options) {
    (name === 'identify' ? identify : name === 'consent' ? consent : send.bind(null, name))(options);
  };
  touchline.visitorId = visitorId;
  touchline.identify = identify;
  touchline.consent = consent;
  // On logout: forget the user id and start a new visitor.
  touchline.reset = function () {
    save(UID);
    if (!cookieless && !refused()) remember(randomId(), lifetime);
  };
  var queue = (w.touchline && w.touchline.q) || [];
  w.touchline = touchline;
  // A site switching from Plausible's script keeps its plausible(...) calls (and their queue).
  if (!w.plausible || w.plausible.q) {
    queue = queue.concat((w.plausible && w.plausible.q) || []);
    w.plausible = touchline;
  }

  listen(d, 'click', click);
  listen(d, 'auxclick', click);
  listen(d, 'submit', function (event) {
    if (event.target.getAttribute('data-touchline-goal')) declaredGoal(event.target);
  });
  if (!flag('manual')) {
    var history = w.history;
    var push = history.pushState;
    history.pushState = function () {
      push.apply(this, arguments);
      pageview(true);
    };
    listen(w, 'popstate', pageview.bind(null, true));
    if (hashMode) listen(w, 'hashchange', pageview.bind(null, true));
    // A page restored from the back/forward cache is a new view; a prerendered one counts once shown.
    listen(w, 'pageshow', function (event) { event.persisted && pageview(); });
    if (d.visibilityState === 'prerender') {
      listen(d, 'visibilitychange', function () { lastPage || d.visibilityState !== 'visible' || pageview(); });
    } else {
      pageview();
    }
  }
  for (var i = 0; i < queue.length; i++) touchline.apply(null, queue[i]);
})(window, document);

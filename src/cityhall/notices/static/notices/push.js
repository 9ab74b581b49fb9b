/* Browser notifications (web push), progressive enhancement of push_controls.html.
 *
 * Without the Push API (or without this script) the include says so and nothing else
 * happens. With it: register /sw.js (scope /), show whether this browser is subscribed,
 * and on a button click only ask for permission, subscribe with the site's VAPID key
 * (applicationServerKey) and send the subscription to the server with the CSRF token.
 * Every text shown comes from the include's data-msg-* attributes (translated there).
 */
(function () {
  'use strict';

  var root = document.querySelector('[data-push-controls]');
  if (!root) { return; }
  var d = root.dataset;
  var unavailable = root.querySelector('[data-push-unavailable]');
  var stateLine = root.querySelector('[data-push-state]');
  var buttons = root.querySelector('[data-push-buttons]');
  var onButton = root.querySelector('[data-push-subscribe]');
  var offButton = root.querySelector('[data-push-unsubscribe]');
  var status = root.querySelector('[data-push-status]');

  var supported = window.isSecureContext && 'serviceWorker' in navigator &&
    'PushManager' in window && 'Notification' in window;
  if (!supported) { return; }

  // The live region; ``outcome`` ('ok' or why it failed) also goes to data-push-outcome.
  function say(text, outcome) {
    var problem = Boolean(outcome) && outcome !== 'ok';
    status.textContent = text || '';
    status.classList.toggle('notification', problem);
    status.classList.toggle('notification--error', problem);
    if (outcome) {
      root.setAttribute('data-push-outcome', outcome);
    } else {
      root.removeAttribute('data-push-outcome');
    }
  }

  function show(subscribed) {
    stateLine.textContent = subscribed ? d.msgOn : d.msgOff;
    stateLine.hidden = false;
    onButton.hidden = subscribed;
    offButton.hidden = !subscribed;
    root.setAttribute('data-push-subscribed', subscribed ? 'true' : 'false');
  }

  function busy(on) {
    onButton.disabled = on;
    offButton.disabled = on;
    root.setAttribute('aria-busy', on ? 'true' : 'false');
  }

  function keyBytes(base64url) {
    var padded = (base64url + '==='.slice(0, (4 - (base64url.length % 4)) % 4))
      .replace(/-/g, '+').replace(/_/g, '/');
    var raw = window.atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i += 1) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function post(url, body) {
    return fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: {
        'Content-Type': 'application/json',
        'Accept': 'application/json',
        'X-CSRFToken': d.csrf
      },
      body: JSON.stringify(body)
    }).then(function (response) {
      if (!response.ok) { throw { why: 'server', detail: 'HTTP ' + response.status }; }
      return response.json();
    }, function () { throw { why: 'server' }; });
  }

  // Our own failures are {why, detail}; anything else (a DOMException) counts as the
  // push service being unreachable. The browser's own words go to data-push-detail for
  // whoever debugs, never into the page text.
  function fail(error) {
    var why = (error && typeof error.why === 'string') ? error.why : 'unreachable';
    if (error && error.name === 'NotAllowedError') { why = 'denied'; }
    var detail = error && (error.detail || (error.name ? error.name + ': ' + error.message : ''));
    root.setAttribute('data-push-detail', detail || '');
    var text = { denied: d.msgDenied, server: d.msgServer, unreachable: d.msgUnreachable }[why];
    say(text || d.msgUnreachable, why);
  }

  function applicationServerKey() {
    if (d.vapidKey) { return Promise.resolve(d.vapidKey); }
    return fetch(d.subscribeUrl, {
      credentials: 'same-origin',
      headers: { 'Accept': 'application/json' }
    }).then(function (response) {
      if (!response.ok) { throw { why: 'server', detail: 'HTTP ' + response.status }; }
      return response.json();
    }).then(function (data) { return data.applicationServerKey || ''; });
  }

  // A browser whose push service cannot be reached may never settle subscribe() (Chromium
  // keeps trying): give up after data-subscribe-timeout ms (default 20 s) and say so. A
  // subscription that still arrives later is dropped, since the server never got it.
  function patiently(subscribing) {
    var limit = parseInt(d.subscribeTimeout || '20000', 10);
    return new Promise(function (resolve, reject) {
      var late = false;
      var timer = window.setTimeout(function () {
        late = true;
        reject({ why: 'unreachable', detail: 'timeout' });
      }, limit);
      subscribing.then(function (subscription) {
        window.clearTimeout(timer);
        if (late) { subscription.unsubscribe(); } else { resolve(subscription); }
      }, function (error) {
        window.clearTimeout(timer);
        reject(error);
      });
    });
  }

  function turnOn() {
    busy(true);
    say(d.msgWorking);
    var ask = Notification.permission === 'granted'
      ? Promise.resolve('granted') : Notification.requestPermission();
    ask.then(function (permission) {
      if (permission !== 'granted') { throw { why: 'denied', detail: permission }; }
      return navigator.serviceWorker.ready;
    }).then(function (ready) {
      return patiently(ready.pushManager.subscribe({
        userVisibleOnly: true,
        applicationServerKey: keyBytes(d.vapidKey)
      })).catch(function (error) {
        if (error && error.why) { throw error; }
        if (error && error.name === 'NotAllowedError') {
          throw { why: 'denied', detail: error.name + ': ' + error.message };
        }
        throw { why: 'unreachable', detail: error ? error.name + ': ' + error.message : '' };
      });
    }).then(function (subscription) {
      return post(d.subscribeUrl, subscription.toJSON()).catch(function (error) {
        // The server did not keep it: do not leave a subscription nobody sends to.
        return subscription.unsubscribe().then(function () { throw error; },
          function () { throw error; });
      });
    }).then(function () {
      show(true);
      say(d.msgSubscribed, 'ok');
    }).catch(fail).then(function () { busy(false); });
  }

  function turnOff() {
    busy(true);
    say(d.msgStopping);
    navigator.serviceWorker.ready.then(function (ready) {
      return ready.pushManager.getSubscription();
    }).then(function (subscription) {
      if (!subscription) { return null; }
      var endpoint = subscription.endpoint;
      return subscription.unsubscribe().then(function () {
        return post(d.unsubscribeUrl, { endpoint: endpoint });
      });
    }).then(function () {
      show(false);
      say(d.msgUnsubscribed, 'ok');
    }).catch(fail).then(function () { busy(false); });
  }

  applicationServerKey().then(function (key) {
    if (!key) {
      unavailable.textContent = d.msgSiteOff;
      say('');
      return null;
    }
    d.vapidKey = key;
    unavailable.hidden = true;
    return navigator.serviceWorker.register(d.swUrl, { scope: '/' }).then(function (reg) {
      root.setAttribute('data-push-registered', 'true');
      return reg.pushManager.getSubscription();
    }).then(function (subscription) {
      buttons.hidden = false;
      show(Boolean(subscription));
      say('');
    });
  }).catch(function (error) {
    buttons.hidden = false;
    show(false);
    fail(error);
  });

  onButton.addEventListener('click', turnOn);
  offButton.addEventListener('click', turnOff);
}());

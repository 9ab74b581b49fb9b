/* The service worker for browser notifications, served at /sw.js (scope /).
 *
 * push: the server's message is JSON {title, body, url, key, urgent, lang}, encrypted
 * for this browser (RFC 8291); the browser has already decrypted it. Show it.
 * notificationclick: open (or focus) the message's page and tell the server it was
 * opened (POST to the "opened" address with the delivery key; no cookies needed).
 */
'use strict';

// Filled in by the server when it serves this file: "/notices/opened/{key}/".
var OPENED_URL = '__OPENED_URL__';

self.addEventListener('install', function () {
  self.skipWaiting();
});

self.addEventListener('activate', function (event) {
  event.waitUntil(self.clients.claim());
});

function readMessage(event) {
  if (!event.data) { return {}; }
  try {
    var data = event.data.json();
    return data && typeof data === 'object' ? data : {};
  } catch (error) {
    return { body: event.data.text() };
  }
}

self.addEventListener('push', function (event) {
  var data = readMessage(event);
  var options = {
    body: String(data.body || ''),
    lang: String(data.lang || ''),
    tag: data.key ? String(data.key) : undefined,
    requireInteraction: Boolean(data.urgent),
    renotify: false,
    data: { url: String(data.url || '/'), key: String(data.key || '') }
  };
  var title = String(data.title || self.location.hostname);
  event.waitUntil(self.registration.showNotification(title, options));
});

function openPage(url) {
  return self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then(function (windows) {
      for (var i = 0; i < windows.length; i += 1) {
        if (windows[i].url === url && 'focus' in windows[i]) { return windows[i].focus(); }
      }
      return self.clients.openWindow ? self.clients.openWindow(url) : null;
    });
}

function reportOpened(key) {
  if (!key || OPENED_URL.indexOf('{key}') < 0) { return Promise.resolve(); }
  return fetch(OPENED_URL.replace('{key}', encodeURIComponent(key)), {
    method: 'POST',
    credentials: 'omit',
    keepalive: true
  }).catch(function () { return null; });
}

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var data = event.notification.data || {};
  var url;
  try {
    url = new URL(data.url || '/', self.location.origin).href;
  } catch (error) {
    url = self.location.origin + '/';
  }
  event.waitUntil(Promise.all([reportOpened(data.key), openPage(url)]));
});

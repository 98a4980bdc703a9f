/*
 * earshot's capture script for the meeting page (plain browser JavaScript, no bundler).
 *
 * A bot injects it before the meeting page's own scripts run (Playwright `addInitScript`,
 * Puppeteer `evaluateOnNewDocument`), as the Node helper `captureScript()` from `earshot/page`
 * writes it: this file is one function expression, called with its configuration.
 *
 * Contract:
 * - Follows every remote audio track: RTCPeerConnection is wrapped so that each connection's
 *   `track` events are seen before the page's; a track's mute, unmute and end are states sent
 *   to earshot, never gaps.
 * - Taps each track off the page's main thread: an AudioWorklet (the audio rendering thread)
 *   cuts 20 ms periods and hands them through a MessagePort straight to a dedicated Worker,
 *   which owns the WebSocket. A main thread busy for seconds delays nothing of the audio.
 * - Every period is stamped with its position on the page's audio clock (AudioContext frames, one
 *   clock for all tracks of the page) and with the page's wall clock when the worker got it (which
 *   is how earshot maps the audio clock to its own, drift included). The main thread sends each
 *   track's `inbound-rtp` statistics every second, and probes each receiver every 20 ms
 *   (getSynchronizationSources) to locate upstream gaps in time.
 * - Everything sent carries a sequence number and stays in a bounded buffer until earshot acks
 *   it; after a socket drop or an earshot restart the worker reconnects and resends what is not
 *   acknowledged. When the buffer is full the oldest audio goes first, counted.
 * - The token authenticates this page to one meeting; it is sent once per connection in the
 *   first message, never in the URL.
 * The wire protocol is described in src/ingest/page/protocol.ts (the receiving end).
 */
(function earshotCapture(config) {
  'use strict';
  if (window.earshot && window.earshot.version) return; // injected twice (frames re-running init scripts)

  var VERSION = 1;
  var RATE = 48000;
  var PERIOD = 960; // 20 ms at 48 kHz
  var GAP_PROBE_MS = 20;
  var GAP_STALE_MS = 60; // a receiver with no packet played out for this long is in an upstream gap
  var labels = new Map(Object.entries(config.labels || {}));
  var taps = new Map(); // track id -> tap
  var nextIndex = 1;
  var ctx = null;
  var ready = null;

  // ---------------------------------------------------------------- the worker: socket, buffer, acks
  function workerMain() {
    var HEADER = 24;
    var cfg = null;
    var socket = null;
    var session = Math.random().toString(36).slice(2) + Date.now().toString(36);
    var seq = 0;
    var queue = []; // { seq, data, audio, samples } not yet acknowledged
    var queuedBytes = 0;
    var sentUpTo = -1; // highest seq written to the current socket
    var welcomed = false;
    var droppedSamples = 0;
    var backoff = 250;
    var anchor = null; // earshot's placement of this page's audio clock, kept for a restarted earshot
    var tracks = new Map(); // index -> latest track message (re-announced to a fresh earshot)
    var pageNow = function () { return performance.timeOrigin + performance.now(); };

    function enqueue(data, audio, samples) {
      var item = { seq: seq++, data: data, audio: audio, samples: samples || 0 };
      queue.push(item);
      queuedBytes += data.byteLength || data.length;
      while (queuedBytes > cfg.maxBufferBytes && queue.length > 1) {
        // Oldest audio first: the track and state messages are small and keep the timeline readable.
        var i = queue.findIndex(function (q) { return q.audio; });
        if (i < 0) break;
        var gone = queue.splice(i, 1)[0];
        queuedBytes -= gone.data.byteLength;
        droppedSamples += gone.samples;
      }
      if (welcomed) flush();
    }

    function text(msg) {
      msg.seq = seq;
      enqueue(JSON.stringify(msg), false);
    }

    function flush() {
      for (var i = 0; i < queue.length; i++) {
        var q = queue[i];
        if (q.seq <= sentUpTo) continue;
        if (socket.bufferedAmount > 1 << 20) return; // let the socket drain; acks trigger the rest
        socket.send(q.data);
        sentUpTo = q.seq;
      }
    }

    function acked(upTo) {
      while (queue.length && queue[0].seq <= upTo) {
        var q = queue.shift();
        queuedBytes -= q.data.byteLength || q.data.length;
      }
      if (welcomed) flush();
    }

    function connect() {
      welcomed = false;
      var ws;
      try {
        ws = new WebSocket(cfg.url);
      } catch (err) {
        return retry();
      }
      ws.binaryType = 'arraybuffer';
      socket = ws;
      ws.onopen = function () {
        backoff = 250;
        ws.send(JSON.stringify({ type: 'hello', v: 1, seq: -1, token: cfg.token, session: session, pageMs: pageNow(), firstSeq: queue.length ? queue[0].seq : seq, droppedSamples: droppedSamples, anchor: anchor }));
      };
      ws.onmessage = function (e) {
        var m;
        try { m = JSON.parse(e.data); } catch (err) { return; }
        if (m.type === 'welcome') {
          // A fresh earshot (restarted) knows nothing of this page: announce the tracks again, first.
          sentUpTo = m.known ? m.ackedSeq : -1;
          if (!m.known) tracks.forEach(function (t) { ws.send(JSON.stringify(Object.assign({}, t, { seq: -1, replay: true }))); });
          welcomed = true;
          acked(m.known ? m.ackedSeq : -1);
          flush();
        } else if (m.type === 'ack') {
          if (typeof m.anchor === 'number') anchor = m.anchor;
          acked(m.seq);
        }
        else if (m.type === 'time') ws.send(JSON.stringify({ type: 'time', seq: -1, serverMs: m.serverMs, pageMs: pageNow() }));
      };
      ws.onclose = function () {
        if (socket === ws) { socket = null; welcomed = false; retry(); }
      };
      ws.onerror = function () {};
    }

    function retry() {
      setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, 2000);
    }

    function onPeriod(index, e) {
      var pcm = e.data.pcm; // Float32Array, one period
      var buf = new ArrayBuffer(HEADER + pcm.length * 2);
      var view = new DataView(buf);
      view.setUint8(0, 0xea);
      view.setUint8(1, 1);
      view.setUint16(2, index, true);
      view.setUint32(4, seq, true);
      view.setFloat64(8, e.data.frame, true);
      view.setFloat64(16, pageNow(), true);
      var out = new Int16Array(buf, HEADER);
      for (var i = 0; i < pcm.length; i++) {
        var s = pcm[i] * 32768;
        out[i] = s >= 32767 ? 32767 : s <= -32768 ? -32768 : Math.round(s);
      }
      enqueue(buf, true, pcm.length);
    }

    self.onmessage = function (e) {
      var m = e.data;
      if (m.type === 'config') {
        cfg = m.config;
        connect();
      } else if (m.type === 'tap') {
        m.port.onmessage = function (ev) { onPeriod(m.index, ev); };
      } else if (m.type === 'send') {
        if (m.msg.type === 'track' || m.msg.type === 'state' || m.msg.type === 'label') {
          var t = Object.assign({}, tracks.get(m.msg.index) || {}, m.msg, { type: 'track' });
          tracks.set(m.msg.index, t);
        }
        text(m.msg);
      } else if (m.type === 'status') {
        self.postMessage({ type: 'status', id: m.id, connected: welcomed, queued: queue.length, queuedBytes: queuedBytes, droppedSamples: droppedSamples, seq: seq });
      } else if (m.type === 'close') {
        var s = socket;
        socket = null;
        if (s) s.close(1000, 'page closed');
      }
    };
  }

  // ---------------------------------------------------------------- the worklet: 20 ms periods, off the main thread
  function workletMain() {
    /* global registerProcessor, AudioWorkletProcessor, currentFrame */
    class Tap extends AudioWorkletProcessor {
      constructor(options) {
        super();
        this.period = options.processorOptions.period;
        this.out = null;
        this.buf = new Float32Array(this.period);
        this.fill = 0;
        this.first = 0;
        this.live = true;
        var self = this;
        this.port.onmessage = function (e) {
          if (e.data.port) self.out = e.data.port;
          if (e.data.stop) self.live = false;
        };
      }
      process(inputs) {
        var ch = inputs[0] && inputs[0][0];
        if (!ch) return this.live; // nothing connected: nothing to send (a dead capture, seen by earshot's watchdog)
        var other = inputs[0][1];
        for (var i = 0; i < ch.length; i++) {
          if (this.fill === 0) this.first = currentFrame + i;
          this.buf[this.fill++] = other ? (ch[i] + other[i]) / 2 : ch[i];
          if (this.fill === this.period) {
            if (this.out) this.out.postMessage({ frame: this.first, pcm: this.buf }, [this.buf.buffer]);
            this.buf = new Float32Array(this.period);
            this.fill = 0;
          }
        }
        return this.live;
      }
    }
    registerProcessor('earshot-tap', Tap);
  }

  var blobUrl = function (fn) {
    return URL.createObjectURL(new Blob(['(' + fn.toString() + ')()'], { type: 'text/javascript' }));
  };
  var worker = new Worker(blobUrl(workerMain), { name: 'earshot-capture' });
  worker.postMessage({ type: 'config', config: { url: config.url, token: config.token, maxBufferBytes: config.maxBufferBytes || 64 << 20 } });
  var send = function (msg) { worker.postMessage({ type: 'send', msg: msg }); };
  var pageNow = function () { return performance.timeOrigin + performance.now(); };

  function context() {
    if (!ctx) {
      ctx = new AudioContext({ sampleRate: RATE, latencyHint: 'playback' });
      ready = ctx.audioWorklet.addModule(blobUrl(workletMain));
      var resume = function () { if (ctx.state !== 'running') ctx.resume().catch(function () {}); };
      resume();
      ctx.onstatechange = resume;
      setInterval(tick, 1000);
      setInterval(probe, GAP_PROBE_MS);
    }
    return ready;
  }

  // ---------------------------------------------------------------- tracks
  function labelOf(track, streams) {
    if (labels.has(track.id)) return labels.get(track.id);
    for (var i = 0; i < streams.length; i++) if (labels.has(streams[i].id)) return labels.get(streams[i].id);
    return streams.length ? streams[0].id : track.id;
  }

  function follow(track, receiver, streams) {
    if (track.kind !== 'audio' || taps.has(track.id)) return;
    var tap = { index: nextIndex++, track: track, receiver: receiver, label: labelOf(track, streams), stream: streams[0] ? streams[0].id : '', stats: null, gap: null, gaps: [], lastSeen: 0 };
    taps.set(track.id, tap);
    send({ type: 'track', index: tap.index, trackId: track.id, label: tap.label, stream: tap.stream, state: track.muted ? 'muted' : 'live', pageMs: pageNow() });
    track.addEventListener('mute', function () { send({ type: 'state', index: tap.index, state: 'muted', pageMs: pageNow() }); });
    track.addEventListener('unmute', function () { send({ type: 'state', index: tap.index, state: 'live', pageMs: pageNow() }); });
    track.addEventListener('ended', function () { end(tap); });
    // Chromium renders a remote WebRTC track into Web Audio only while a media element plays it too.
    tap.element = new Audio();
    tap.element.muted = true;
    tap.element.srcObject = new MediaStream([track]);
    tap.element.play().catch(function () {});
    context().then(function () {
      if (tap.ended) return;
      tap.source = ctx.createMediaStreamSource(new MediaStream([track]));
      tap.node = new AudioWorkletNode(ctx, 'earshot-tap', { numberOfInputs: 1, numberOfOutputs: 1, outputChannelCount: [1], processorOptions: { period: PERIOD } });
      tap.sink = ctx.createGain();
      tap.sink.gain.value = 0; // keeps the node pulled by the graph, plays nothing
      var ch = new MessageChannel();
      tap.node.port.postMessage({ port: ch.port1 }, [ch.port1]);
      worker.postMessage({ type: 'tap', index: tap.index, port: ch.port2 }, [ch.port2]);
      tap.source.connect(tap.node);
      tap.node.connect(tap.sink).connect(ctx.destination);
    });
  }

  function end(tap) {
    if (tap.ended) return;
    tap.ended = true;
    send({ type: 'state', index: tap.index, state: 'ended', pageMs: pageNow() });
    if (tap.node) {
      tap.node.port.postMessage({ stop: true });
      tap.source.disconnect();
      tap.node.disconnect();
    }
    if (tap.element) tap.element.srcObject = null;
    taps.delete(tap.track.id);
  }

  // Every second: each track's receive statistics, with the upstream gaps the probe located.
  var FIELDS = ['packetsReceived', 'packetsLost', 'packetsDiscarded', 'jitter', 'jitterBufferDelay', 'jitterBufferTargetDelay', 'jitterBufferEmittedCount',
    'totalSamplesReceived', 'concealedSamples', 'silentConcealedSamples', 'concealmentEvents', 'insertedSamplesForDeceleration', 'removedSamplesForAcceleration',
    'audioLevel', 'totalAudioEnergy', 'totalSamplesDuration', 'fecPacketsReceived', 'fecPacketsDiscarded'];
  function tick() {
    taps.forEach(function (tap) {
      if (!tap.receiver) return;
      tap.receiver.getStats().then(function (report) {
        report.forEach(function (s) {
          if (s.type !== 'inbound-rtp' || s.kind !== 'audio') return;
          var out = {};
          for (var i = 0; i < FIELDS.length; i++) if (typeof s[FIELDS[i]] === 'number') out[FIELDS[i]] = s[FIELDS[i]];
          var gaps = tap.gaps;
          tap.gaps = [];
          // A gap still open is placed when it closes: earshot holds this second's figures for it.
          send({ type: 'stats', index: tap.index, pageMs: s.timestamp, stats: out, gaps: gaps, openGap: tap.gap });
        });
      }, function () {});
    });
  }

  // Every 20 ms: when did each receiver last play out a packet? A stale receiver is in an upstream gap.
  function probe() {
    var now = pageNow();
    taps.forEach(function (tap) {
      if (tap.track.readyState === 'ended') return end(tap); // ended without an event (its connection was closed here)
      if (!tap.receiver || !tap.receiver.getSynchronizationSources || tap.track.muted) return;
      var src = tap.receiver.getSynchronizationSources()[0];
      if (!src) return;
      var at = src.timestamp; // epoch ms at which the newest packet was delivered to the track
      if (at > tap.lastSeen) {
        if (tap.gap !== null && at - tap.lastSeen > GAP_STALE_MS) tap.gaps.push([tap.gap, at]);
        tap.gap = null;
        tap.lastSeen = at;
      } else if (tap.gap === null && tap.lastSeen && now - tap.lastSeen > GAP_STALE_MS) {
        tap.gap = tap.lastSeen;
      }
    });
  }

  // ---------------------------------------------------------------- RTCPeerConnection, wrapped
  var Native = window.RTCPeerConnection;
  if (Native) {
    var Wrapped = function RTCPeerConnection() {
      var pc = Reflect.construct(Native, arguments, new.target || Native); // keeps a page's own subclass working
      pc.addEventListener('track', function (e) { follow(e.track, e.receiver, e.streams || []); });
      return pc;
    };
    Wrapped.prototype = Native.prototype;
    Object.setPrototypeOf(Wrapped, Native); // statics (generateCertificate)
    window.RTCPeerConnection = Wrapped;
    if (window.webkitRTCPeerConnection) window.webkitRTCPeerConnection = Wrapped;
  }

  var statusId = 0;
  var pending = new Map();
  worker.addEventListener('message', function (e) {
    if (e.data.type === 'status' && pending.has(e.data.id)) { pending.get(e.data.id)(e.data); pending.delete(e.data.id); }
  });

  window.earshot = {
    version: VERSION,
    /** Names the participant of a track or stream id (before or after it appears). */
    setLabel: function (id, label) {
      labels.set(id, label);
      taps.forEach(function (tap) {
        if (tap.track.id === id || tap.stream === id) {
          tap.label = label;
          send({ type: 'label', index: tap.index, label: label, pageMs: pageNow() });
        }
      });
    },
    /** What the capture is doing: tracks followed, connection, what waits for an ack. */
    status: function () {
      var id = ++statusId;
      return new Promise(function (resolve) {
        pending.set(id, function (w) {
          var tracks = [];
          taps.forEach(function (t) { tracks.push({ index: t.index, trackId: t.track.id, label: t.label, state: t.track.muted ? 'muted' : 'live' }); });
          resolve({ connected: w.connected, queued: w.queued, queuedBytes: w.queuedBytes, droppedSamples: w.droppedSamples, tracks: tracks, audioContext: ctx ? ctx.state : 'none' });
        });
        worker.postMessage({ type: 'status', id: id });
      });
    },
    /** Stops capturing and closes the connection (the page is leaving the meeting). */
    stop: function () {
      taps.forEach(end);
      worker.postMessage({ type: 'close' });
    },
  };
  if (config.faults) {
    // Fault injection for tests: the tap of a track stops delivering while the track stays live.
    window.earshot.faults = {
      breakTap: function (id) {
        taps.forEach(function (tap) { if ((tap.track.id === id || tap.label === id) && tap.source) tap.source.disconnect(); });
      },
    };
  }
});

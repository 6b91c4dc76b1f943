/* The modal map's own behaviour (maps/controls.py, maps/labels.py, maps/interaction.py).
 * Plain JavaScript on Leaflet 1.9, no other library, inlined into the page (offline).
 * Every string from data arrives as JSON and is put into the page as text (textContent),
 * never as markup; the only HTML set here is the pre-escaped panels the page already holds.
 */
(function () {
  "use strict";
  var LC = (window.LC = window.LC || {});
  var NARROW_PX = 900;

  function narrow() {
    return window.innerWidth < NARROW_PX;
  }
  LC.narrow = narrow;

  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* A GeoJSON layer styled from each feature's properties (maps/_escape.py GeoJsonLayer):
   * colour, weight, dash, fill, fill_opacity; tip (HTML escaped in Python) its tooltip. */
  LC.geojson = function (parent, data, opts) {
    var options = {
      style: function (f) {
        var p = f.properties;
        return {
          color: p.colour, weight: p.weight, opacity: opts.opacity,
          dashArray: p.dash || null, lineCap: "round", lineJoin: "round",
          fillColor: p.fill || p.colour,
          fillOpacity: p.fill_opacity === undefined ? 0 : p.fill_opacity,
        };
      },
      onEachFeature: function (f, l) {
        if (f.properties.core) l.options.interactive = false;  // a hollow line's core
        if (f.properties.tip) l.bindTooltip(f.properties.tip, { sticky: true });
      },
    };
    if (opts.pane) options.pane = opts.pane;
    var layer = L.geoJson(data, options);
    parent.addLayer(layer);
    return layer;
  };

  /* A page element (built by Python, escaped there) as a Leaflet control in a corner:
   * controls in one corner stack and never cover each other (the legend sits above the
   * scale bar). */
  LC.panel = function (map, id, position) {
    var node = document.getElementById(id);
    if (!node) return null;
    var Panel = L.Control.extend({
      options: { position: position },
      onAdd: function () {
        L.DomEvent.disableClickPropagation(node);
        L.DomEvent.disableScrollPropagation(node);
        return node;
      },
    });
    var c = new Panel();
    c.addTo(map);
    return c;
  };

  /* Panels open on a wide screen and folded on a narrow one; on a narrow screen opening
   * one folds the others. The legend's height is what the map leaves under the headline. */
  LC.layout = function (map, bounds) {
    var panels = Array.prototype.slice.call(
      document.querySelectorAll(".lc-panel details"));
    if (narrow()) panels.forEach(function (d) { d.open = false; });
    panels.forEach(function (d) {
      d.addEventListener("toggle", function () {
        if (d.open && narrow()) {
          panels.forEach(function (o) { if (o !== d) o.open = false; });
          if (LC._closeLayers) LC._closeLayers();
        }
        fit();
      });
    });
    function fit() {
      var box = map.getContainer().getBoundingClientRect();
      var head = document.getElementById("lc-headline");
      var legend = document.getElementById("lc-legend");
      var scale = document.querySelector(".leaflet-control-scale");
      if (head) head.style.maxHeight = Math.max(box.height - 24, 80) + "px";
      if (!legend) return;
      var top = head ? head.getBoundingClientRect().bottom - box.top : 0;
      var below = scale ? scale.getBoundingClientRect().height + 14 : 14;
      legend.style.maxHeight = Math.max(box.height - top - below - 20, 90) + "px";
    }
    window.addEventListener("resize", fit);
    map.on("resize", fit);
    fit();
    LC.fit = fit;
    if (bounds) frame(map, bounds);
  };

  /* Fit the flows into what the open panels leave of the map: on a wide screen the
   * headline and the legend hold the left edge, on a narrow one the folded headline the
   * top. */
  function frame(map, bounds) {
    var box = map.getContainer().getBoundingClientRect();
    var left = 12, top = 12;
    ["lc-headline", "lc-legend"].forEach(function (id) {
      var n = document.getElementById(id);
      if (!n) return;
      var r = n.getBoundingClientRect();
      if (r.width === 0) return;
      if (!narrow() && r.width < box.width / 2) left = Math.max(left, r.right - box.left + 12);
      else if (r.top - box.top < box.height / 2) top = Math.max(top, r.bottom - box.top + 12);
    });
    map.fitBounds(bounds, { paddingTopLeft: [left, top], paddingBottomRight: [24, 36],
                            animate: false });
  }
  LC.frame = frame;

  /* The layer switch: the three states are radio buttons (one at a time), the other
   * layers check boxes; folded to its button on a narrow screen. */
  LC.layers = function (map, bases, overlays, titles) {
    var b = {}, o = {};
    bases.forEach(function (x) { b[x[0]] = x[1]; });
    overlays.forEach(function (x) { o[x[0]] = x[1]; });
    var c = L.control.layers(b, o, {
      collapsed: narrow(), position: "topright", sortLayers: false,
    }).addTo(map);
    var box = c.getContainer();
    box.id = "lc-layers";
    var base = box.querySelector(".leaflet-control-layers-base");
    var over = box.querySelector(".leaflet-control-layers-overlays");
    if (base) base.parentNode.insertBefore(el("div", "lc-layers-head", titles[0]), base);
    if (over) over.parentNode.insertBefore(el("div", "lc-layers-head", titles[1]), over);
    LC._closeLayers = function () { if (narrow()) c.collapse(); };
    return c;
  };

  /* The headline's state columns switch the state shown; the shown one is marked. */
  LC.states = function (map, groups, names) {
    function mark(state) {
      document.querySelectorAll(".lc-states [data-state]").forEach(function (n) {
        n.classList.toggle("on", n.getAttribute("data-state") === state);
      });
    }
    function show(state) {
      var radios = document.querySelectorAll(".leaflet-control-layers-base input");
      var labels = Array.prototype.slice.call(
        document.querySelectorAll(".leaflet-control-layers-base label"));
      // through the layer switch, so the other base layers (the rule's effect) go too
      var i = labels.findIndex(function (l) { return l.textContent.trim() === names[state]; });
      if (i >= 0 && !radios[i].checked) radios[i].click();
      else if (!map.hasLayer(groups[state])) map.addLayer(groups[state]);
    }
    document.querySelectorAll(".lc-states th[data-state]").forEach(function (th) {
      th.addEventListener("click", function () { show(th.getAttribute("data-state")); });
    });
    map.on("baselayerchange", function (e) {
      var hit = null;  // none of the columns when the rule's effect is shown
      Object.keys(groups).forEach(function (k) { if (groups[k] === e.layer) hit = k; });
      mark(hit);
    });
    Object.keys(groups).forEach(function (k) { if (map.hasLayer(groups[k])) mark(k); });
    LC.showState = show;
  };

  /* Place labels: each class from its zoom on, the most important first; a label that
   * would overlap one already placed is left out at that zoom. */
  LC.labels = function (map, group, labels) {
    var items = labels.map(function (d) {
      var inner = el("span", "lc-label lc-label-" + d.c, d.n);
      var icon = L.divIcon({ className: "lc-label-box lc-anchor-" + d.a, html: inner,
                             iconSize: null });
      var m = L.marker([d.y, d.x], { icon: icon, interactive: false, keyboard: false });
      if (d.dot) {
        group.addLayer(L.circleMarker([d.y, d.x], { radius: 3.5, color: "#ffffff", weight: 1.5,
          fillColor: "#111111", fillOpacity: 1, interactive: false }));
      }
      group.addLayer(m);
      return { m: m, z: d.z };
    });
    function place() {
      if (!map.hasLayer(group)) return;
      var zoom = map.getZoom();
      var taken = [];
      items.forEach(function (it) {
        var node = it.m.getElement();
        if (!node) return;
        if (zoom < it.z) { node.style.display = "none"; return; }
        node.style.display = "";
        var r = node.firstChild.getBoundingClientRect();
        var hit = taken.some(function (t) {
          return r.left < t.right + 3 && r.right > t.left - 3 &&
                 r.top < t.bottom + 1 && r.bottom > t.top - 1;
        });
        if (hit) node.style.display = "none"; else taken.push(r);
      });
    }
    map.on("zoomend", place);
    group.on("add", function () { setTimeout(place, 0); });
    setTimeout(place, 0);
    LC.placeLabels = place;
  };

  /* Click a shipper, a station or a flow link: the routes of the flows concerned are
   * drawn on top with a dark casing (every other flow dimmed) and listed in a panel; a
   * click on one listed flow shows that flow alone. */
  LC.interact = function (map, data, places, links) {
    var flows = data.flows;
    map.createPane("lcHi");
    map.getPane("lcHi").style.zIndex = 450;
    map.getPane("lcHi").style.pointerEvents = "none";
    var renderer = L.svg({ pane: "lcHi" });
    var hi = L.layerGroup().addTo(map);
    var panel = document.getElementById("lc-select");
    var current = null;

    function eachLink(fn) {
      links.forEach(function (x) { x[0].eachLayer(function (l) { fn(l, x[1]); }); });
    }
    eachLink(function (l) {
      l._lcOpacity = l.options.opacity;
    });

    function draw(ids) {
      var want = {};
      ids.forEach(function (i) { want[i] = true; });
      hi.clearLayers();
      var casings = [], tops = [];
      eachLink(function (l) {
        var fl = (l.feature && l.feature.properties.fl) || [];
        var hit = fl.some(function (i) { return want[i]; });
        l.setStyle({ opacity: hit ? l._lcOpacity : 0.15 });
        if (!hit || !map.hasLayer(l)) return;
        var w = l.options.weight;
        casings.push(L.polyline(l.getLatLngs(), {
          renderer: renderer, pane: "lcHi", interactive: false, color: "#111111",
          weight: w + 6, opacity: 0.9, lineCap: "round", lineJoin: "round" }));
        tops.push(L.polyline(l.getLatLngs(), {
          renderer: renderer, pane: "lcHi", interactive: false, color: l.options.color,
          weight: w + 1, opacity: 1, dashArray: l.options.dashArray, lineCap: "round",
          lineJoin: "round" }));
      });
      casings.concat(tops).forEach(function (p) { hi.addLayer(p); });
      return tops.length;
    }

    function clear() {
      current = null;
      hi.clearLayers();
      eachLink(function (l) { l.setStyle({ opacity: l._lcOpacity }); });
      if (panel) panel.style.display = "none";
    }

    function list(sel, focus) {
      if (!panel) return;
      panel.textContent = "";
      var head = el("div", "lc-sel-head");
      head.appendChild(el("b", "lc-sel-title", sel.title));
      var close = el("button", "lc-sel-close", "✕");
      close.type = "button";
      close.title = "清除 clear (Esc)";
      close.addEventListener("click", clear);
      head.appendChild(close);
      panel.appendChild(head);
      panel.appendChild(el("div", "lc-sel-sub",
        sel.ids.length + " 条货流 flows · " + sel.sub +
        (focus === null ? "" : " · 只显示一条 showing one")));
      if (sel.rows) {
        var table = el("table", "lc-sel-sum");
        sel.rows.forEach(function (r, k) {
          var tr = el("tr");
          r.forEach(function (c, j) { tr.appendChild(el(k === 0 ? "th" : "td", j ? "n" : "", c)); });
          table.appendChild(tr);
        });
        panel.appendChild(table);
      }
      var ul = el("ul", "lc-sel-list");
      sel.ids.forEach(function (i) {
        var f = flows[i];
        var li = el("li", focus === i ? "on" : "");
        li.setAttribute("data-flow", f.id);
        li.appendChild(el("div", "lc-sel-t", f.t));
        f.d.forEach(function (line) { li.appendChild(el("div", "lc-sel-d", line)); });
        li.addEventListener("click", function () {
          var next = focus === i ? null : i;
          var shown = draw(next === null ? sel.ids : [next]);
          list(sel, next);
          panel.setAttribute("data-shown", String(shown));
        });
        ul.appendChild(li);
      });
      if (!sel.ids.length) ul.appendChild(el("li", "", "没有货流 no flows"));
      panel.appendChild(ul);
      panel.style.display = "block";
      if (narrow()) {
        document.querySelectorAll(".lc-panel details").forEach(function (d) { d.open = false; });
      }
    }

    function select(ids, title, sub, rows) {
      var seen = {}, uniq = [];
      ids.forEach(function (i) { if (!seen[i] && flows[i]) { seen[i] = true; uniq.push(i); } });
      current = { ids: uniq, title: title, sub: sub, rows: rows || null };
      var shown = draw(uniq);
      list(current, null);
      if (panel) panel.setAttribute("data-shown", String(shown));
    }
    LC.select = select;
    LC.clear = clear;

    places.forEach(function (p) {
      var info = data.places[p[1]];
      if (!info) return;
      p[0].on("click", function (e) {
        L.DomEvent.stopPropagation(e);
        p[0].closeTooltip();
        select(info.fl, info.n, info.k, info.s);
      });
    });
    links.forEach(function (x) {
      x[0].on("click", function (e) {
        var props = (e.layer && e.layer.feature && e.layer.feature.properties) || {};
        L.DomEvent.stopPropagation(e);
        if (e.layer && e.layer.closeTooltip) e.layer.closeTooltip();
        select(props.fl || [], props.label || "", data.states[x[1]] || "");
      });
    });
    map.on("click", function () { if (current) clear(); });
    map.on("baselayerchange", function () {
      if (current) { draw(current.ids); list(current, null); }
    });
    document.addEventListener("keydown", function (e) {
      if (e.key === "Escape" && current) clear();
    });
    if (panel) panel.style.display = "none";
  };
})();

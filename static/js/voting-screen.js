/* The big screen: poll the turnout every few seconds; reload when the vote opens or closes. */
(function () {
  "use strict";
  var screen = document.querySelector("[data-turnout-url]");
  var count = document.getElementById("turnout-count");
  var cards = document.getElementById("turnout-cards");
  if (!screen || !count || !window.fetch) { return; }
  var url = screen.getAttribute("data-turnout-url");
  var state = screen.getAttribute("data-state");
  function poll() {
    fetch(url, { cache: "no-cache", credentials: "omit" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (data) {
        if (!data) { return; }
        if (data.state !== state) { window.location.reload(); return; }
        count.textContent = String(data.ballots);
        if (cards) { cards.textContent = String(data.cards); }
      })
      .catch(function () { /* the next poll tries again */ })
      .then(function () { window.setTimeout(poll, 4000); });
  }
  window.setTimeout(poll, 4000);
}());

/* A form whose answer is a file (a batch of ballot cards) leaves its page as it was: the browser
   saves the file and stays put, so the page went on saying "0 cards issued". With this script such
   a form (data-after-download="URL") is sent by fetch: the file is saved, then the browser goes to
   URL, which shows what was issued. Without JavaScript the form works as before. */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData || !window.URL || !URL.createObjectURL) { return; }
  function filename(response) {
    var header = response.headers.get("Content-Disposition") || "";
    var match = /filename="([^"]+)"/.exec(header);
    return match ? match[1] : "download";
  }
  Array.prototype.forEach.call(document.querySelectorAll("form[data-after-download]"), function (form) {
    form.addEventListener("submit", function (event) {
      var after = form.getAttribute("data-after-download");
      var button = form.querySelector("button[type=submit]");
      event.preventDefault();
      if (button) { button.disabled = true; }
      fetch(form.action, { method: "POST", body: new FormData(form), credentials: "same-origin" })
        .then(function (response) {
          var disposition = response.headers.get("Content-Disposition") || "";
          if (!response.ok || disposition.indexOf("attachment") !== 0) {
            return response.text().then(function (html) {
              document.open(); document.write(html); document.close();  // the page with the error
            });
          }
          return response.blob().then(function (blob) {
            var link = document.createElement("a");
            link.href = URL.createObjectURL(blob);
            link.download = filename(response);
            document.body.appendChild(link);
            link.click();
            window.setTimeout(function () { window.location.assign(after); }, 500);
          });
        })
        .catch(function () { window.location.assign(after); });  // the page says what was issued
    });
  });
}());

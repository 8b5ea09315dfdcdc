// Kiosk form: asks the ID-card reader's local service for the card and fills the applicant
// fields (docs/DEVICES.md). Without JavaScript or a reader the fields are typed by hand.
(function () {
  var btn = document.getElementById("read-card");
  if (!btn) return;
  var status = document.getElementById("read-status");
  btn.addEventListener("click", function () {
    status.textContent = "…";
    fetch(btn.getAttribute("data-reader"), { headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error(r.status); return r.json(); })
      .then(function (c) {
        document.getElementById("f-name").value = c.name;
        document.getElementById("f-id").value = c.id_number;
        document.getElementById("f-ethnicity").value = c.ethnicity;
        document.getElementById("f-address").value = c.address;
        document.getElementById("from_card").value = "1";
        status.textContent = "✓ " + c.name;
      })
      .catch(function () { status.textContent = document.documentElement.lang === "en" ? "The card could not be read; type the details." : "读卡失败，请手工填写。"; });
  });
})();

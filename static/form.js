// The one form. At the kiosk: asks the ID-card reader's local service for the card and fills
// the applicant fields (docs/DEVICES.md); without JavaScript or a reader they are typed by hand.
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

// An endorsement goes with its permit. A document's details show once it is ticked (CSS); an
// endorsement chosen while its permit is not ticked ticks the permit and says so, and a permit
// unticked with endorsements still chosen stays open and says why, so nothing hidden is sent.
// The server refuses an endorsement without its permit all the same (no script, old browsers).
(function () {
  var blocks = document.querySelectorAll(".one-form .doc-block");
  Array.prototype.forEach.call(blocks, function (block) {
    var box = block.querySelector("label.check input[type=checkbox]");
    var note = block.querySelector(".doc-note");
    var choices = block.querySelectorAll("select.endorsement-choice");
    if (!box || !note || !choices.length) return;
    var doc = block.getAttribute("data-doc-name") || "";
    function say(attr) {
      note.textContent = (block.getAttribute(attr) || "").replace("{doc}", doc);
    }
    function anyChosen() {
      return Array.prototype.some.call(choices, function (s) { return s.value !== ""; });
    }
    // The whole choice under its list, which a phone's width may cut short.
    function echo(select) {
      var out = document.getElementById(select.name + "-chosen");
      if (!out) return;
      var option = select.options[select.selectedIndex];
      out.textContent = option && select.value !== "" ? option.text : "";
      out.hidden = out.textContent === "";
    }
    // The server's "endorsement without its permit" is put right once the permit is ticked.
    function settled() {
      Array.prototype.forEach.call(block.querySelectorAll("[data-fixed-by-ticking]"), function (p) {
        var field = document.querySelector("[aria-describedby='" + p.id + "']");
        if (field) {
          field.removeAttribute("aria-invalid");
          field.removeAttribute("aria-describedby");
          var link = document.querySelector("#form-error a[href='#" + field.id + "']");
          if (link && link.parentNode) link.parentNode.parentNode.removeChild(link.parentNode);
        }
        p.parentNode.removeChild(p);
      });
      var summary = document.getElementById("form-error");
      if (summary && !summary.querySelector("li")) summary.hidden = true;
    }
    Array.prototype.forEach.call(choices, function (select) {
      echo(select);
      select.addEventListener("change", function () {
        echo(select);
        if (select.value !== "" && !box.checked) {
          box.checked = true;
          block.classList.remove("doc-open");
          say("data-ticked-for-endorsement");
          settled();
        } else if (!box.checked && !anyChosen()) {
          block.classList.remove("doc-open");
          note.textContent = "";
        }
      });
    });
    box.addEventListener("change", function () {
      if (box.checked) {
        note.textContent = "";
        settled();
      } else if (anyChosen()) {
        block.classList.add("doc-open");
        say("data-endorsement-needs-permit");
      } else {
        block.classList.remove("doc-open");
        note.textContent = "";
      }
    });
  });
})();

// Print buttons on printable pages (receipt, form, notice, labels): the content-security policy
// allows no inline handlers, so buttons marked data-print are wired here.
(function () {
  Array.prototype.forEach.call(document.querySelectorAll('[data-print]'), function (b) {
    b.addEventListener('click', function () { window.print(); });
  });
})();

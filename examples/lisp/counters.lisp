; Page-view counters: incr creates nothing, so add starts a counter at 0 first.
; Run: ppdb run examples/lisp/counters.lisp   (against a server on 127.0.0.1:11211)

(define pages '("home" "about" "pricing"))

(define (key page) (str "views:" page))

(define (count-view page)
  (add (key page) 0)          ; false if it exists already: fine
  (incr (key page)))

; Simulate traffic: home 5 times, pricing 3 times, about once.
(for (i 5) (count-view "home"))
(for (i 3) (count-view "pricing"))
(count-view "about")

(for (page pages)
  (println (format "{} viewed {} times" page (get (key page)))))

(define total (fold + 0 (map (lambda (p) (parse-int (get (key p)))) pages)))
(println "total:" total)

; Transfers between accounts as serializable transactions (embedded mode only:
; ppdb run --memory examples/lisp/bank.lisp, or paste into ppdb shell --memory).

(define accounts '("alice" "bob" "carol"))
(for (name accounts) (set (str "acct:" name) 100))

(define (balance name) (parse-int (get (str "acct:" name))))

(define (transfer! from to amount)
  (txn
    (let ((a (balance from)) (b (balance to)))
      (if (< a amount)
          (error "{} has only {}, cannot send {}" from a amount))
      (set (str "acct:" from) (- a amount))
      (set (str "acct:" to) (+ b amount))
      'ok)))

(println (transfer! "alice" "bob" 30))
(println (transfer! "bob" "carol" 80))
(println (try (transfer! "carol" "alice" 500) (catch e (str "refused: " e))))

(for (name accounts) (println name (balance name)))
(println "total" (fold + 0 (map balance accounts)))
